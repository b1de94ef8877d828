// InformerFactory: one informer per (resource, namespace, selectors) per process, as client-go's
// SharedInformerFactory, so every controller in a process shares one watch per resource.

import { setMaxListeners } from "node:events";
import type { KubeObject } from "../api/meta.js";
import type { ResourceType } from "../api/resources.js";
import type { ApiClient } from "../client/client.js";
import type { Clock } from "../runtime/clock.js";
import { type Logger, silentLogger } from "../runtime/log.js";
import { Informer } from "./informer.js";

export interface InformerFactoryOptions {
  /** Default resync period of the informers it makes. */
  resyncMs?: number;
  log?: Logger;
  clock?: Clock;
  /** Restrict every informer to one namespace. */
  namespace?: string;
}

export interface InformerSelector {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export class InformerFactory {
  readonly #client: ApiClient;
  readonly #opts: InformerFactoryOptions;
  readonly #informers = new Map<string, Informer<KubeObject>>();
  readonly #running = new Map<string, Promise<void>>();
  #signal: AbortSignal | undefined;

  constructor(client: ApiClient, o: InformerFactoryOptions = {}) {
    this.#client = client;
    this.#opts = o;
  }

  /** The shared informer for r (and selectors). Informers asked for after start() start at once. */
  informer<T extends KubeObject = KubeObject>(r: ResourceType<T>, sel: InformerSelector = {}): Informer<T> {
    const namespace = sel.namespace ?? this.#opts.namespace;
    const key = [
      r.group,
      r.version,
      r.resource,
      namespace ?? "",
      sel.labelSelector ?? "",
      sel.fieldSelector ?? "",
    ].join("|");
    let inf = this.#informers.get(key);
    if (!inf) {
      inf = new Informer<KubeObject>(this.#client, r, {
        ...(namespace ? { namespace } : {}),
        ...(sel.labelSelector ? { labelSelector: sel.labelSelector } : {}),
        ...(sel.fieldSelector ? { fieldSelector: sel.fieldSelector } : {}),
        ...(this.#opts.resyncMs ? { resyncMs: this.#opts.resyncMs } : {}),
        ...(this.#opts.clock ? { clock: this.#opts.clock } : {}),
        log: this.#opts.log ?? silentLogger,
      });
      this.#informers.set(key, inf);
      if (this.#signal) this.#start(key, inf, this.#signal);
    }
    return inf as unknown as Informer<T>;
  }

  /** Alias of informer(), as STYLE's InformerFactory.for(type). */
  for<T extends KubeObject = KubeObject>(r: ResourceType<T>, sel?: InformerSelector): Informer<T> {
    return this.informer<T>(r, sel);
  }

  /** Starts every informer made so far (and, from now on, every new one) until signal aborts. */
  start(signal: AbortSignal): void {
    // Every informer listens on the signal it runs with (a process may hold dozens: the garbage
    // collector watches every resource); they share one signal of the factory's own, which follows
    // the caller's, so no listener limit is crossed on a signal the factory does not own.
    const own = new AbortController();
    setMaxListeners(0, own.signal);
    if (signal.aborted) own.abort(signal.reason);
    else signal.addEventListener("abort", () => own.abort(signal.reason), { once: true });
    this.#signal = own.signal;
    for (const [key, inf] of this.#informers) this.#start(key, inf, own.signal);
  }

  #start(key: string, inf: Informer<KubeObject>, signal: AbortSignal): void {
    if (this.#running.has(key)) return;
    const log = this.#opts.log ?? silentLogger;
    this.#running.set(
      key,
      inf.run(signal).catch((err: unknown) => log.error({ err, informer: key }, "informer stopped with an error")),
    );
  }

  /** Resolves when every started informer has synced; rejects if signal aborts first. */
  async waitForSync(signal?: AbortSignal): Promise<void> {
    await Promise.all([...this.#informers.values()].map((inf) => inf.waitForSync(signal)));
  }

  /** Resolves when every informer has stopped (after the start signal aborted). */
  async stopped(): Promise<void> {
    await Promise.all(this.#running.values());
  }
}
