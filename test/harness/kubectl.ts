// The real kubectl (/usr/bin/kubectl, the dispatcher that picks a versioned client by the server's
// /version) as a child process against a test kubeconfig, with its own HOME and cache dir so that
// no test reads or writes the user's ~/.kube. Children still running at close() are killed.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
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

export interface Kubectl {
  /** Runs kubectl to completion (killed after timeoutMs, default 60 s). */
  run(args: string[], o?: { input?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** run, asserting exit code 0; returns stdout. */
  ok(args: string[], o?: { input?: string; timeoutMs?: number }): Promise<string>;
  /** A long-running kubectl (rollout status -w, get -w); output accumulates in out()/err(). */
  start(args: string[]): ChildProcess & { out(): string; err(): string };
  /** Kills what is still running and removes the HOME directory. */
  close(): void;
}

/** kubectlFor; `binary` runs a versioned kubectl (e.g. `${KUBECTL_DIR}/kubectl.1.33`) instead of the dispatcher. */
export function kubectlFor(kubeconfigPath: string, o: { binary?: string } = {}): Kubectl {
  const binary = o.binary ?? KUBECTL;
  const home = mkdtempSync(join(tmpdir(), "kubeling-kubectl-"));
  const children = new Set<ChildProcess>();
  const env = { ...process.env, KUBECONFIG: kubeconfigPath, HOME: home };

  const start = (args: string[]) => {
    const child = spawn(binary, [`--cache-dir=${join(home, "cache")}`, ...args], {
      env,
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

  const run = async (args: string[], o: { input?: string; timeoutMs?: number } = {}) => {
    const child = start(args);
    child.stdin.end(o.input ?? "");
    const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 60_000);
    const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
    clearTimeout(timer);
    return { code, stdout: child.out(), stderr: child.err() };
  };

  return {
    run,
    start,
    async ok(args, o) {
      const r = await run(args, o);
      assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
      return r.stdout;
    },
    close() {
      for (const c of children) c.kill("SIGKILL");
      rmSync(home, { recursive: true, force: true });
    },
  };
}
