// kubeling-controller-manager (controller-manager/main.ts) as a real process against a kubeconfig,
// beside the scheduler's starter in cluster.ts: health port on loopback, JSON logs kept.

import { freePort } from "./ports.js";
import { type ComponentProcess, startComponent } from "./process.js";

export interface TestControllerManager {
  port: number;
  proc: ComponentProcess;
  /** GET http://127.0.0.1:<port><path>. */
  get(path: string): Promise<{ status: number; body: string }>;
  /** SIGTERM (SIGKILL after 10 s); resolves with the exit code or signal. */
  stop(): Promise<string | undefined>;
}

/** Starts it and waits for /healthz (not /readyz: a standby is ready at once, a leader once synced). */
export async function startControllerManager(o: {
  kubeconfigPath: string;
  extraArgs?: string[];
}): Promise<TestControllerManager> {
  const port = await freePort();
  const proc = startComponent("kubeling-controller-manager", "controller-manager/main.ts", [
    `--kubeconfig=${o.kubeconfigPath}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    ...(o.extraArgs ?? []),
  ]);
  const stop = async () => {
    await proc.end("SIGTERM");
    return proc.exited();
  };
  try {
    await proc.waitHealthy(port, "/healthz", 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  const get = async (path: string) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: r.status, body: await r.text() };
  };
  return { port, proc, get, stop };
}
