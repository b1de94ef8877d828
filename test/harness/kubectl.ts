// The real kubectl (/usr/bin/kubectl, the dispatcher that picks a versioned client by the server's
// /version) as a child process against a test kubeconfig, with its own HOME and cache dir so that
// no test reads or writes the user's ~/.kube. Children still running at close() are killed.

import assert from "node:assert/strict";
import { type ChildProcess, type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const KUBECTL = "/usr/bin/kubectl";
/** Where the versioned binaries (kubectl.1.27 ... kubectl.1.33) sit beside the dispatcher. */
export const KUBECTL_DIR = "/usr/lib/google-cloud-sdk/bin";

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  /** Added to the child's environment (EDITOR, KUBECTL_* switches). */
  env?: NodeJS.ProcessEnv;
}

export type StartedKubectl = ChildProcessWithoutNullStreams & { out(): string; err(): string };

export interface Kubectl {
  /** The HOME kubectl runs with: a scratch directory of the test's, removed by close(). */
  readonly home: string;
  /** Runs kubectl to completion (killed after timeoutMs, default 60 s). */
  run(args: string[], o?: RunOptions): Promise<KubectlResult>;
  /** run, asserting exit code 0; returns stdout. */
  ok(args: string[], o?: RunOptions): Promise<string>;
  /** A long-running kubectl (rollout status -w, get -w); output accumulates in out()/err(). */
  start(args: string[], o?: Pick<RunOptions, "env">): StartedKubectl;
  /** The command line (binary, kubeconfig, cache dir, the fixed arguments), quoted for a shell. */
  commandLine(): string;
  /** Kills what is still running and removes the HOME directory. */
  close(): void;
}

/**
 * kubectlFor; `binary` runs a versioned kubectl (e.g. `${KUBECTL_DIR}/kubectl.1.33`) instead of the
 * dispatcher; `args` go before every command's own (e.g. `["-n", ns]`).
 */
export function kubectlFor(kubeconfigPath: string, o: { binary?: string; args?: string[] } = {}): Kubectl {
  const binary = o.binary ?? KUBECTL;
  const home = mkdtempSync(join(tmpdir(), "kubeling-kubectl-"));
  const children = new Set<ChildProcess>();
  const env = { ...process.env, KUBECONFIG: kubeconfigPath, HOME: home };
  const fixed = [`--cache-dir=${join(home, "cache")}`, ...(o.args ?? [])];

  const start = (args: string[], so: Pick<RunOptions, "env"> = {}): StartedKubectl => {
    const child = spawn(binary, [...fixed, ...args], {
      env: { ...env, ...so.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    children.add(child);
    child.once("exit", () => children.delete(child));
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    return Object.assign(child, { out: () => stdout, err: () => stderr });
  };

  const run = async (args: string[], ro: RunOptions = {}) => {
    const child = start(args, ro);
    child.stdin.end(ro.input ?? "");
    const timer = setTimeout(() => child.kill("SIGKILL"), ro.timeoutMs ?? 60_000);
    const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
    clearTimeout(timer);
    return { code, stdout: child.out(), stderr: child.err() };
  };

  const quote = (a: string) => `'${a.replaceAll("'", "'\\''")}'`;
  return {
    home,
    run,
    start,
    async ok(args, ro) {
      const r = await run(args, ro);
      assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
      return r.stdout;
    },
    commandLine: () => [binary, `--kubeconfig=${kubeconfigPath}`, ...fixed].map(quote).join(" "),
    close() {
      for (const c of children) c.kill("SIGKILL");
      rmSync(home, { recursive: true, force: true });
    },
  };
}
