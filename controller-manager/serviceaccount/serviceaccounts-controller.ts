// ServiceAccountsController (upstream: pkg/controller/serviceaccount/serviceaccounts_controller.go):
// every active namespace has the ServiceAccounts in `serviceAccounts` (["default"]), and one that is
// deleted is created again. Keys are namespace names: a namespace added or updated, or one of the
// ServiceAccounts deleted, enqueues its namespace; the sync creates what the cache lacks.
// Terminating namespaces are left alone (the namespace is going away; the API server would
// refuse the create anyway).

import { isAlreadyExists, isNotFound } from "#pkg/api/errors.js";
import { NAMESPACES, SERVICEACCOUNTS } from "#pkg/api/resources.js";
import type { Namespace, ServiceAccount } from "#pkg/api/types/index.js";
import type { Informer } from "#pkg/cache/informer.js";
import { objectOf } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import { runWorkers } from "#pkg/controller/worker.js";
import type { Logger } from "#pkg/runtime/log.js";
import { WorkQueue } from "#pkg/workqueue/queue.js";
import type { Controller, ControllerContext } from "../controller.js";

export const NAME = "serviceaccount";

export interface ServiceAccountsControllerOptions {
  /** The ServiceAccounts every namespace gets (upstream's ServiceAccountsToEnsure). */
  serviceAccounts?: string[];
}

export class ServiceAccountsController implements Controller {
  readonly name = NAME;
  readonly queue: WorkQueue;
  readonly #client: ApiClient;
  readonly #log: Logger;
  readonly #namespaces: Informer<Namespace>;
  readonly #accounts: Informer<ServiceAccount>;
  readonly #ensure: string[];

  constructor(ctx: ControllerContext, o: ServiceAccountsControllerOptions = {}) {
    this.#client = ctx.client;
    this.#log = ctx.log.child({ controller: NAME });
    this.#ensure = o.serviceAccounts ?? ["default"];
    this.queue = new WorkQueue({ name: NAME, clock: ctx.clock });
    this.#namespaces = ctx.informers.informer(NAMESPACES);
    this.#accounts = ctx.informers.informer(SERVICEACCOUNTS);
    const enqueue = (namespace: string | undefined) => {
      if (namespace) this.queue.add(namespace);
    };
    this.#namespaces.on("add", (ns) => enqueue(ns.metadata.name));
    this.#namespaces.on("update", (_old, ns) => enqueue(ns.metadata.name));
    this.#accounts.on("delete", (sa) => {
      const { name, namespace } = objectOf(sa).metadata;
      if (name && this.#ensure.includes(name)) enqueue(namespace);
    });
  }

  run(signal: AbortSignal, workers: number): Promise<void> {
    return runWorkers(this.queue, workers, (ns) => this.sync(ns), signal, this.#log);
  }

  /** sync ensures namespace `name` has every ServiceAccount to ensure. */
  async sync(name: string): Promise<void> {
    const ns = this.#namespaces.get(name);
    if (!ns) return;
    if (ns.status?.phase !== "Active" || ns.metadata.deletionTimestamp) return;
    for (const sa of this.#ensure) {
      if (this.#accounts.get(`${name}/${sa}`)) continue;
      try {
        await this.#client.create<ServiceAccount>(SERVICEACCOUNTS, name, {
          apiVersion: "v1",
          kind: "ServiceAccount",
          metadata: { name: sa, namespace: name },
        });
        this.#log.info({ namespace: name, serviceAccount: sa }, "created ServiceAccount");
      } catch (err) {
        // Already there (the cache is behind) is success; NotFound: the namespace went away meanwhile.
        if (isAlreadyExists(err) || isNotFound(err)) continue;
        throw err;
      }
    }
  }
}

export function newServiceAccountsController(ctx: ControllerContext): Controller {
  return new ServiceAccountsController(ctx);
}
