// ControllerManagerApp: kubeling-controller-manager's controllers run together in one process
// (upstream: cmd/kube-controller-manager/app). With leader election on the Lease
// kube-system/kube-controller-manager, only the leader builds and runs them: on winning the
// lease it makes one InformerFactory, builds every enabled controller from the table (they
// register their handlers), then starts the informers, waits for their first lists and runs the
// controllers until leadership ends. A standby keeps no caches (as upstream).

import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { InformerFactory } from "#pkg/cache/factory.js";
import type { ApiClient } from "#pkg/client/client.js";
import { EventRecorder } from "#pkg/controller/events.js";
import { type LeaderElectionConfig, newLeaderElector } from "#pkg/controller/leader-config.js";
import { type Clock, realClock } from "#pkg/runtime/clock.js";
import { type Logger, silentLogger } from "#pkg/runtime/log.js";
import { gaugeFunc, newRegistry, type Registry } from "#pkg/runtime/metrics.js";
import type { ControllerContext, ControllerInit, ControllerOptions } from "./controller.js";
import { CONTROLLERS } from "./controllers.js";

export const LEASE_NAMESPACE = "kube-system";
export const LEASE_NAME = "kube-controller-manager";

export interface ControllerManagerAppOptions extends LeaderElectionConfig {
  client: ApiClient;
  /** Names to run (enabledControllers of --controllers), each a key of `table`. */
  controllers: readonly string[];
  /** Default: CONTROLLERS. */
  table?: Record<string, ControllerInit>;
  /** Sync loops per controller (default 5). */
  workers?: number;
  /** Sync loops of the controllers named here (their --concurrent-*-syncs), over `workers`. */
  workersOf?: Readonly<Record<string, number>>;
  /** The controllers' command-line settings (ControllerContext.options). */
  controllerOptions?: ControllerOptions;
  registry?: Registry;
  log?: Logger;
  clock?: Clock;
}

export type RunResult = "stopped" | "lost-leadership";

export class ControllerManagerApp {
  readonly identity: string;
  readonly registry: Registry;
  readonly #o: ControllerManagerAppOptions;
  readonly #log: Logger;
  readonly #clock: Clock;
  #leading = false;
  #synced = false;

  constructor(o: ControllerManagerAppOptions) {
    const table = o.table ?? CONTROLLERS;
    for (const name of o.controllers) if (!table[name]) throw new Error(`unknown controller ${JSON.stringify(name)}`);
    this.#o = o;
    this.#log = o.log ?? silentLogger;
    this.#clock = o.clock ?? realClock;
    this.identity = o.identity ?? `${hostname()}_${randomUUID()}`;
    this.registry = o.registry ?? newRegistry({ processMetrics: false });
    gaugeFunc({
      name: "leader_election_master_status",
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.",
      labelNames: ["name"],
      registry: this.registry,
      read: () => [[{ name: this.#o.leaseName ?? LEASE_NAME }, this.#leading ? 1 : 0]],
    });
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** Ready: a standby at once (it keeps no caches); the leader once its informers have synced. */
  hasSynced(): boolean {
    return !this.#leading || this.#synced;
  }

  /** Runs until signal aborts ("stopped") or, with leader election, the lease is lost. */
  async run(signal: AbortSignal): Promise<RunResult> {
    if (signal.aborted) return "stopped";
    if (this.#o.leaderElect === false) {
      this.#leading = true;
      try {
        await this.#runControllers(signal);
      } finally {
        this.#leading = false;
      }
      return "stopped";
    }
    const elector = newLeaderElector(this.#o.client, this.#o, {
      namespace: LEASE_NAMESPACE,
      name: LEASE_NAME,
      identity: this.identity,
      log: this.#log,
      clock: this.#clock,
    });
    let led = false;
    await elector.run(signal, {
      onStartedLeading: async (leading) => {
        led = true;
        this.#leading = true;
        this.#log.info({ identity: this.identity }, "leading: starting controllers");
        await this.#runControllers(leading);
      },
      onStoppedLeading: () => {
        this.#leading = false;
      },
    });
    this.#leading = false;
    return led && !signal.aborted ? "lost-leadership" : "stopped";
  }

  /** One term: build the controllers on fresh informers, start them, run until signal aborts, drain. */
  async #runControllers(signal: AbortSignal): Promise<void> {
    const { client } = this.#o;
    const table = this.#o.table ?? CONTROLLERS;
    const informers = new InformerFactory(client, {
      log: this.#log.child({ module: "informers" }),
      clock: this.#clock,
    });
    this.#synced = false;
    const recorders: EventRecorder[] = [];
    const ctx: ControllerContext = {
      client,
      informers,
      recorder: (component) => {
        const r = new EventRecorder(client, { component, log: this.#log, clock: this.#clock });
        recorders.push(r);
        return r;
      },
      metrics: this.registry,
      log: this.#log,
      clock: this.#clock,
      ...(this.#o.controllerOptions ? { options: this.#o.controllerOptions } : {}),
    };
    const controllers = this.#o.controllers.map((name) => (table[name] as ControllerInit)(ctx));
    // Every handler is registered: the first lists reach them all. The informers end with the
    // term, or with a failure to sync.
    const stop = new AbortController();
    informers.start(AbortSignal.any([signal, stop.signal]));
    try {
      await informers.waitForSync(signal).catch((err: unknown) => {
        if (!signal.aborted) throw err;
      });
      if (signal.aborted) return;
      this.#synced = true;
      this.#log.info({ controllers: controllers.map((c) => c.name) }, "caches synced; controllers running");
      // By the table's name (the --controllers one), which the flags are keyed by.
      const workers = (i: number) => this.#o.workersOf?.[this.#o.controllers[i] ?? ""] ?? this.#o.workers ?? 5;
      await Promise.all(
        controllers.map((c, i) =>
          c
            .run(signal, workers(i))
            .catch((err: unknown) => this.#log.error({ err, controller: c.name }, "controller failed")),
        ),
      );
    } finally {
      stop.abort();
      await informers.stopped();
      await Promise.all(recorders.map((r) => r.flush().catch(() => undefined)));
      this.#synced = false;
    }
  }
}
