// A kubeling component (scheduler/main.ts, kubelet/main.ts, ...) as a real child process run from
// the TypeScript sources, with its recent output kept for assertion messages and a stop that
// escalates to SIGKILL. KUBELING_TEST_LOGS=1 echoes the output.

import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { httpsGet } from "./https.js";
import { WaitAborted, waitFor } from "./wait.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface ComponentProcess {
  child: ChildProcess;
  /** The last 20 kB of stdout+stderr. */
  output(): string;
  /** The exit code or signal once the process has exited. */
  exited(): string | undefined;
  /** Sends sig (SIGKILL after 10 s) and waits for the exit; a no-op once exited. */
  end(sig: NodeJS.Signals): Promise<void>;
  /**
   * Polls <scheme, default http>://<host, default 127.0.0.1>:<port><path> until 2xx; fails at once
   * if the process exits. https does not check the serving certificate and sends no credentials.
   */
  waitHealthy(port: number, path: string, timeoutMs: number, host?: string, scheme?: "http" | "https"): Promise<void>;
}

export function startComponent(name: string, main: string, args: string[]): ComponentProcess {
  const showLogs = process.env.KUBELING_TEST_LOGS === "1";
  const logLevel = process.env.KUBELING_TEST_LOG_LEVEL ?? (showLogs ? "debug" : "info");
  const child = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", join(ROOT, main), ...args, `--log-level=${logLevel}`],
    { cwd: ROOT, env: { ...process.env, LOG_FORMAT: "json" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  const keep = (d: Buffer) => {
    if (showLogs) process.stderr.write(d);
    out = (out + d.toString()).slice(-20000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exited: string | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = String(code ?? signal);
      resolve();
    });
  });
  const end = async (sig: NodeJS.Signals): Promise<void> => {
    if (exited !== undefined) return;
    child.kill(sig);
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exitPromise;
    clearTimeout(killer);
  };
  const waitHealthy = async (
    port: number,
    path: string,
    timeoutMs: number,
    host = "127.0.0.1",
    scheme: "http" | "https" = "http",
  ): Promise<void> => {
    await waitFor(
      async () => {
        if (exited !== undefined) throw new WaitAborted(`${name} exited (${exited}): ${out.trim()}`);
        const url = `${scheme}://${host}:${port}${path}`;
        if (scheme === "https") {
          const res = await httpsGet(url, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
          return res !== undefined && res.status >= 200 && res.status < 300;
        }
        const res = await fetch(url).catch(() => undefined);
        return res?.ok === true;
      },
      { timeoutMs, intervalMs: 100, message: `${name} ${path}` },
    );
  };
  return { child, output: () => out, exited: () => exited, end, waitHealthy };
}
