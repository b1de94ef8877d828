// Structured logs: JSON lines to stdout (pino), pretty only on a terminal. One logger per
// process, children per module: log.child({ module: "watch-cache" }).

import { type Logger, pino } from "pino";

export type { Logger };

export function createLogger(component: string, level = process.env.LOG_LEVEL ?? "info"): Logger {
  const pretty = process.stdout.isTTY && process.env.LOG_FORMAT !== "json";
  return pino({
    name: component,
    level,
    base: { component },
    ...(pretty ? { transport: { target: "pino-pretty", options: { colorize: true, ignore: "pid,hostname" } } } : {}),
  });
}

/** A logger that drops everything: for unit tests and library defaults. */
export const silentLogger: Logger = pino({ level: "silent" });
