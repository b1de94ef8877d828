// Running the kubeling CLI as a child process in e2e tests.

import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = join(ROOT, "cli", "main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A long-running CLI process (get -w, port-forward, logs -f); output accumulates in out(). */
export function spawnCli(args: string[]): ChildProcess & { out(): string; err(): string } {
  return collectOutput(
    spawn(process.execPath, ["--conditions=source", "--import", "tsx", MAIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, KUBECONFIG: "" },
      stdio: ["pipe", "pipe", "pipe"],
    }),
  );
}

/** collectOutput accumulates a child's stdout and stderr; out() and err() return them so far. */
export function collectOutput<C extends ChildProcess>(child: C): C & { out(): string; err(): string } {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  return Object.assign(child, { out: () => stdout, err: () => stderr });
}

/** Runs the CLI to completion (stdin: the given text, then EOF). */
export function runCli(args: string[], o: { stdin?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`kubeling ${args.join(" ")} timed out; stdout=${child.out()} stderr=${child.err()}`));
    }, o.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout: child.out(), stderr: child.err() });
    });
    child.stdin?.end(o.stdin ?? "");
  });
}

/** Stops a long-running CLI process and waits for it to exit. */
export async function stopCli(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  child.kill("SIGTERM");
  await exited;
}
