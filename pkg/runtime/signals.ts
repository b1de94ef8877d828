// Process shutdown as an AbortSignal, like client-go's SetupSignalHandler: the first SIGTERM or
// SIGINT aborts the signal (graceful shutdown); a second one exits at once with code 1.

import type { Logger } from "pino";

export function shutdownSignal(
  o: { log?: Logger; signals?: NodeJS.Signals[]; exit?: (code: number) => void } = {},
): AbortSignal {
  const ac = new AbortController();
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const signals = o.signals ?? ["SIGTERM", "SIGINT"];
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) {
      o.log?.warn({ signal: sig }, "second signal: exiting immediately");
      exit(1);
      return;
    }
    o.log?.info({ signal: sig }, "shutting down");
    ac.abort(new Error(`received ${sig}`));
  };
  for (const s of signals) process.on(s, onSignal);
  return ac.signal;
}

/**
 * aborted resolves once signal aborts, at once if it already has: `await aborted(signal)` is how a
 * main.ts waits for shutdown (a listener added after the abort would never fire).
 */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
