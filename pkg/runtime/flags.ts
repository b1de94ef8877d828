// One way to declare a component's flags: commander, upstream's flag names, every flag also read
// from an environment variable (KUBELING_<FLAG_IN_UPPER_SNAKE> unless named otherwise), with the
// variable and the default shown in --help. Precedence: flag > environment > default.
//
// Every component's main.ts reads the same way (scheduler/main.ts is the model to copy):
//   1. flags     componentCommand(...).addOption(flag(...)) → parse → typed options
//   2. logger    createLogger(component, level); signal = shutdownSignal({ log })
//   3. client    ApiClient.fromKubeconfig(...) (the API server opens its storage instead)
//   4. informers one per resource, plus the metrics Registry (newRegistry) and HealthServer
//   5. run       until signal aborts: informers, controllers, loops built on until()/jitterUntil()
//   6. drain     finish in-flight work, close the health server, informers and client; exit code
// and its last line is runMain(main), so an error escaping main prints its stack and exits 1.

import { Command, InvalidArgumentError, Option } from "commander";
import { parseDuration } from "./duration.js";

/** envName: --etcd-servers → KUBELING_ETCD_SERVERS. */
export function envName(long: string): string {
  return `KUBELING_${long.replace(/^--/, "").replace(/-/g, "_").toUpperCase()}`;
}

export interface FlagOptions<T> {
  /** The environment variable (default KUBELING_<FLAG>); false for none. */
  env?: string | false;
  /** The default value (already parsed), and how --help shows it. */
  default?: T;
  defaultDescription?: string;
  /** Turns the command-line or environment string into the value. */
  parse?: (value: string) => T;
  /** Allowed values, listed in --help. */
  choices?: readonly string[];
}

/** flag declares one option: `flag("--secure-port <port>", "HTTPS port", { default: 6443, parse: portArg })`. */
export function flag<T = string>(flags: string, description: string, o: FlagOptions<T> = {}): Option {
  const long = /--([a-z0-9-]+)/.exec(flags)?.[1];
  if (!long) throw new Error(`flag ${flags}: no --long name`);
  const option = new Option(flags, description);
  if (o.env !== false) option.env(o.env ?? envName(long));
  if (o.choices) option.choices(o.choices);
  if (o.parse) {
    const parse = o.parse;
    option.argParser((v: string) => parse(v));
  }
  if (o.default !== undefined) option.default(o.default, o.defaultDescription);
  return option;
}

/** componentCommand: the Command a component's main.ts adds its flags to. */
export function componentCommand(name: string, description: string): Command {
  return new Command(name)
    .description(description)
    .helpOption("-h, --help", "show this help (flags also read the environment variable shown beside them)")
    .showHelpAfterError()
    .allowExcessArguments(false);
}

function invalid(kind: string, value: string): never {
  throw new InvalidArgumentError(`invalid ${kind} "${value}"`);
}

export function portArg(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 0 || n > 65535) invalid("port", value);
  return n;
}

export function countArg(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 0) invalid("count", value);
  return n;
}

/** boolArg: Go's strconv.ParseBool (1, t, true, TRUE, 0, f, false, ...). */
export function boolArg(value: string): boolean {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(value)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(value)) return false;
  return invalid("boolean", value);
}

/**
 * durationArg: a Go duration ("1h30m", "500ms", "0"), in milliseconds. parseDuration reads "-2s"
 * as Go does, but no flag takes a negative duration: refused here.
 */
export function durationArg(value: string): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch {
    return invalid("duration", value);
  }
  if (ms < 0) throw new InvalidArgumentError(`invalid duration "${value}": must not be negative`);
  return ms;
}

/** positiveDurationArg: a durationArg that must be greater than 0 (periods, timeouts, backoffs). */
export function positiveDurationArg(value: string): number {
  const ms = durationArg(value);
  if (ms <= 0) throw new InvalidArgumentError(`invalid duration "${value}": must be greater than 0`);
  return ms;
}

/** listArg: "a, b,,c" → ["a", "b", "c"]. */
export function listArg(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * runMain: the last line of every main.ts. An error that escapes main is printed (with its stack)
 * and the process exits 1; a normal return leaves the exit code to the component.
 */
export function runMain(main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
}
