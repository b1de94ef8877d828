// Controllers of kubeling-controller-manager run in-process against a test API server, on a
// ControllerContext built from pkg/ pieces as the controller-manager builds it (one shared
// InformerFactory started after every controller registered its handlers).

import { InformerFactory } from "#pkg/cache/factory.js";
import { EventRecorder } from "#pkg/controller/events.js";
import { realClock } from "#pkg/runtime/clock.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { newRegistry } from "#pkg/runtime/metrics.js";
import type { Controller, ControllerContext } from "../../controller-manager/controller.js";
import type { TestApiServer } from "./apiserver.js";

export interface RunningController<C extends Controller> {
  controller: C;
  /** Aborts the controller and its informers; resolves once its workers have drained. */
  stop(): Promise<void>;
}

export function runController<C extends Controller>(
  server: TestApiServer,
  build: (ctx: ControllerContext) => C,
  workers = 2,
): RunningController<C> {
  const client = server.client;
  const ac = new AbortController();
  const informers = new InformerFactory(client, { log: silentLogger });
  const controller = build({
    client,
    informers,
    recorder: (component) => new EventRecorder(client, { component, log: silentLogger }),
    metrics: newRegistry(),
    log: silentLogger,
    clock: realClock,
  });
  informers.start(ac.signal);
  const done = controller.run(ac.signal, workers);
  return {
    controller,
    stop: async () => {
      ac.abort();
      await done;
    },
  };
}
