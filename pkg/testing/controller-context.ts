// fakeControllerContext: what kubeling-controller-manager hands each controller (an ApiClient,
// the shared InformerFactory, event recorders, a metrics registry, a logger, a clock), built
// over a FakeClient for unit tests. Its shape is controller-manager's ControllerContext, written
// out here because pkg/ does not import controller-manager; the compiler checks it where used.

import type { Registry } from "prom-client";
import { InformerFactory } from "../cache/factory.js";
import type { EventRecorder } from "../controller/events.js";
import { type Clock, realClock } from "../runtime/clock.js";
import { type Logger, silentLogger } from "../runtime/log.js";
import { newRegistry } from "../runtime/metrics.js";
import { FakeClient } from "./fake-client.js";
import { FakeRecorder } from "./fake-recorder.js";

export interface FakeControllerContext<C extends FakeClient = FakeClient> {
  client: C;
  informers: InformerFactory;
  recorder(component: string): EventRecorder;
  /** What every component's recorder was given (unless a recorder was passed in). */
  events: FakeRecorder;
  metrics: Registry;
  log: Logger;
  clock: Clock;
  /** Starts the informers until abortFakeContexts(); returns their signal. */
  startInformers(): AbortSignal;
  /** startInformers, then waits until every informer asked for so far has synced. */
  start(): Promise<AbortSignal>;
}

export interface FakeContextOptions<C extends FakeClient> {
  /** A FakeClient (or a subclass with failures to inject); a new FakeClient by default. */
  client?: C;
  /** The controllers' clock; real time by default. The informers always run on real time. */
  clock?: Clock;
  /** Recorders by component; by default every component's is `events`. */
  recorder?: (component: string) => EventRecorder;
}

const running = new Set<AbortController>();

export function fakeControllerContext<C extends FakeClient = FakeClient>(
  o: FakeContextOptions<C> = {},
): FakeControllerContext<C> {
  const client = o.client ?? (new FakeClient() as C);
  const informers = new InformerFactory(client, { log: silentLogger });
  const events = new FakeRecorder();
  const startInformers = (): AbortSignal => {
    const ac = new AbortController();
    running.add(ac);
    informers.start(ac.signal);
    return ac.signal;
  };
  return {
    client,
    informers,
    // FakeRecorder has the one method controllers call on an EventRecorder.
    recorder: o.recorder ?? (() => events as unknown as EventRecorder),
    events,
    metrics: newRegistry({ processMetrics: false }),
    log: silentLogger,
    clock: o.clock ?? realClock,
    startInformers,
    async start() {
      const signal = startInformers();
      await informers.waitForSync(signal);
      return signal;
    },
  };
}

/** Aborts every context's informers (and what runs on their signal); for afterEach. */
export function abortFakeContexts(): void {
  for (const ac of running) ac.abort();
  running.clear();
}
