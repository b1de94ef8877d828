#!/usr/bin/env node
// kubeling: the kubectl-like CLI. Commands talk to the API server through pkg/client only,
// ask for server-side Tables for human output, and print and exit as kubectl does.

import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { Command, CommanderError, Option } from "commander";
import { parseDuration } from "#pkg/runtime/duration.js";
import { registerCommands } from "./commands/index.js";
import { type CliContext, type CliIO, CliContext as Ctx, type GlobalOptions } from "./context.js";
import { CliError, formatError, SilentExit } from "./errors.js";

export function buildProgram(io: CliIO, setContext: (ctx: CliContext) => void): Command {
  let current: CliContext | undefined;
  const getContext = (): CliContext => {
    if (!current) throw new Error("internal: no CLI context before the action ran");
    return current;
  };
  const program = new Command("kubeling");
  program
    .description("kubeling controls a kubeling (or Kubernetes) cluster, the way kubectl does.")
    .option("--kubeconfig <path>", "path to the kubeconfig file to use for CLI requests")
    .option("--context <name>", "the name of the kubeconfig context to use")
    .option("-n, --namespace <ns>", "if present, the namespace scope for this CLI request")
    .option("-A, --all-namespaces", "list the requested object(s) across all namespaces")
    .option("-l, --selector <selector>", "label selector to filter on (e.g. -l key1=value1,key2=value2)")
    .option("--field-selector <selector>", "field selector to filter on (e.g. --field-selector status.phase=Running)")
    .addOption(
      new Option("-o, --output <format>", "output format: wide|yaml|json|name|jsonpath=TEMPLATE|custom-columns=SPEC"),
    )
    .option("-w, --watch", "after listing/getting the requested object, watch for changes")
    .option("--request-timeout <duration>", "how long to wait for a single server request (0 = no timeout)", "0")
    .showHelpAfterError(false)
    .configureOutput({
      writeOut: (s) => io.out.write(s),
      writeErr: (s) => io.err.write(s),
    })
    .exitOverride();
  program.hook("preAction", (_root, action) => {
    current = new Ctx(action.optsWithGlobals<GlobalOptions>(), io);
    setContext(current);
  });
  registerCommands(program, getContext);
  return program;
}

/** Runs one CLI invocation; returns the exit code (never calls process.exit). */
export async function run(argv: string[], io: CliIO): Promise<number> {
  let ctx: CliContext | undefined;
  let code = 0;
  let timer: NodeJS.Timeout | undefined;
  const program = buildProgram(io, (c) => {
    ctx = c;
    code = 0;
    const timeout = c.opts.requestTimeout;
    const streaming = c.opts.watch || ["logs", "exec", "port-forward", "wait"].includes(argv[0] ?? "");
    if (timeout && timeout !== "0" && !streaming) {
      const ms = parseDuration(timeout);
      timer = setTimeout(() => {
        io.err.write(
          `Unable to connect to the server: net/http: request canceled (Client.Timeout exceeded after ${timeout})\n`,
        );
        process.exit(1);
      }, ms);
      timer.unref();
    }
  });
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help / --version print and exit 0; parse errors were already printed.
      code = err.exitCode === 0 ? 0 : 1;
    } else if (err instanceof SilentExit) {
      code = err.exitCode;
    } else {
      const msg = formatError(err, { server: ctx?.serverForMessages });
      io.err.write(`${msg}\n`);
      code = err instanceof CliError ? err.exitCode : 1;
      if (process.env.KUBELING_DEBUG && err instanceof Error) io.err.write(`${err.stack}\n`);
    }
  } finally {
    if (timer) clearTimeout(timer);
    await ctx?.close().catch(() => undefined);
  }
  return code;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;

export async function main(): Promise<void> {
  const code = await run(process.argv.slice(2), { out: process.stdout, err: process.stderr, in: process.stdin });
  process.exitCode = code;
}

if (isMain) await main();
