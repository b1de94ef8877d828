// One way to declare a component's flags: commander, upstream's flag names, every flag also read
// from an environment variable, with the variable and the default shown in --help. Precedence:
// flag > environment > default.
//
// Environment variables: <PREFIX><FLAG_IN_UPPER_SNAKE>, the prefix the component's own, given to
// componentCommand, so that components started from one environment (`npm run up`, the test
// harness, compose pass {...process.env} on) never read each other's variables:
//   kubeling-apiserver           KUBELING_              KUBELING_SECURE_PORT, KUBELING_ETCD_SERVERS
//   kubeling-scheduler           KUBELING_SCHEDULER_    KUBELING_SCHEDULER_SECURE_PORT
//   kubeling-kubelet             KUBELING_KUBELET_      KUBELING_KUBELET_PORT, KUBELING_KUBELET_CLUSTER_NAME
//   kubeling-controller-manager  KUBELING_CONTROLLER_MANAGER_
//   kube-proxy                   KUBELING_PROXY_
//   DNS                          KUBELING_DNS_
// A flag may name its variable instead (`env: "KUBECONFIG"`, "LOG_LEVEL", "KUBELING_NODE_NAME": names
// that existed before the convention) or have none (`env: false`).
//
// Every component's main.ts reads the same way (scheduler/main.ts is the model to copy):
//   1. flags     componentCommand(...).addOption(flag(...)) → parse → typed options
//   2. logger    createLogger(component, level); signal = shutdownSignal({ log })
//   3. client    ApiClient.fromKubeconfig(...) (the API server opens its storage instead)
//   4. informers one per resource, plus the metrics Registry (newRegistry) and HealthServer
//   5. run       until signal aborts (await aborted(signal)): informers, controllers, loops built on until()/jitterUntil()
//   6. drain     finish in-flight work, close the health server, informers and client; exit code
// and its last line is runMain(main), so an error escaping main prints its stack and exits 1.

import { Command, InvalidArgumentError, Option } from "commander";
import { parseDuration } from "./duration.js";

/** The API server's prefix; every other component has its own (see the header). */
export const DEFAULT_ENV_PREFIX = "KUBELING_";

/** envName: --etcd-servers → KUBELING_ETCD_SERVERS; with prefix KUBELING_KUBELET_, --port → KUBELING_KUBELET_PORT. */
export function envName(long: string, prefix = DEFAULT_ENV_PREFIX): string {
  return `${prefix}${long.replace(/^--/, "").replace(/-/g, "_").toUpperCase()}`;
}

/** Options whose variable is the command's prefix + the flag (no env of their own): option → long name. */
const prefixedEnv = new WeakMap<Option, string>();

export interface FlagOptions<T> {
  /** The environment variable (default: the command's prefix + FLAG); false for none. */
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
  if (o.env === undefined) prefixedEnv.set(option, long);
  if (o.choices) option.choices(o.choices);
  if (o.parse) {
    const parse = o.parse;
    option.argParser((v: string) => parse(v));
  }
  if (o.default !== undefined) option.default(o.default, o.defaultDescription);
  return option;
}

/**
 * repeatedFlag declares a flag that may be given several times, its values kept in order
 * (upstream's stringArray; with `split: listArg` a stringSlice, where each value may also be a
 * comma-separated list). Unset, it is undefined: the caller knows its default. Its environment
 * variable holds one value, parsed the same way.
 */
export function repeatedFlag(
  flags: string,
  description: string,
  o: { env?: string | false; split?: (value: string) => string[]; defaultDescription?: string } = {},
): Option {
  const option = flag(flags, description, o.env === undefined ? {} : { env: o.env });
  const split = o.split ?? ((v: string) => [v]);
  option.argParser((v: string, previous: string[] | undefined) => [...(previous ?? []), ...split(v)]);
  if (o.defaultDescription) option.defaultValueDescription = o.defaultDescription;
  return option;
}

/** ComponentCommand names the variable of each flag added without one: its prefix + the flag. */
class ComponentCommand extends Command {
  readonly #envPrefix: string;

  constructor(name: string, envPrefix: string) {
    super(name);
    this.#envPrefix = envPrefix;
  }

  override addOption(option: Option): this {
    const long = prefixedEnv.get(option);
    if (long) option.env(envName(long, this.#envPrefix));
    return super.addOption(option);
  }
}

/**
 * componentCommand: the Command a component's main.ts adds its flags to. envPrefix is the
 * component's own (see the header): KUBELING_ for the API server, KUBELING_SCHEDULER_, ...
 */
export function componentCommand(name: string, description: string, envPrefix: string): Command {
  return new ComponentCommand(name, envPrefix)
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

/** nonNegativeNumberArg: a float32/float64 flag that must be >= 0 (rates, thresholds). */
export function nonNegativeNumberArg(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) invalid("non-negative number", value);
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
