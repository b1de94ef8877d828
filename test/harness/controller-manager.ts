// kubeling-controller-manager (controller-manager/main.ts) as a real process against a kubeconfig,
// beside the scheduler's starter in cluster.ts: its secure port (HTTPS, delegated authentication
// and authorization, pkg/server/delegated.ts) on loopback, JSON logs kept.

import { type HttpsCredentials, httpsGet } from "./https.js";
import { freePort } from "./ports.js";
import { type ComponentProcess, startComponent } from "./process.js";

export interface TestControllerManager {
  port: number;
  proc: ComponentProcess;
  /**
   * GET https://127.0.0.1:<port><path> with the credentials given (default: the start's
   * `credentials`; {} for anonymous). /metrics needs a user allowed `get /metrics`.
   */
  get(path: string, credentials?: HttpsCredentials): Promise<{ status: number; body: string }>;
  /** SIGTERM (SIGKILL after 10 s); resolves with the exit code or signal. */
  stop(): Promise<string | undefined>;
}

/** Starts it and waits for /healthz (not /readyz: a standby is ready at once, a leader once synced). */
export async function startControllerManager(o: {
  kubeconfigPath: string;
  /** --client-ca-file: client certificates signed by it authenticate on the secure port. */
  clientCAFile?: string;
  /** What get() presents by default (e.g. the test API server's admin token). */
  credentials?: HttpsCredentials;
  extraArgs?: string[];
}): Promise<TestControllerManager> {
  const port = await freePort();
  const proc = startComponent("kubeling-controller-manager", "controller-manager/main.ts", [
    `--kubeconfig=${o.kubeconfigPath}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${port}`,
    ...(o.clientCAFile ? [`--client-ca-file=${o.clientCAFile}`] : []),
    ...(o.extraArgs ?? []),
  ]);
  const stop = async () => {
    await proc.end("SIGTERM");
    return proc.exited();
  };
  try {
    await proc.waitHealthy(port, "/healthz", 60_000, "127.0.0.1", "https");
  } catch (err) {
    await stop();
    throw err;
  }
  const get = async (path: string, credentials = o.credentials ?? {}) => {
    const r = await httpsGet(`https://127.0.0.1:${port}${path}`, credentials);
    return { status: r.status, body: r.body };
  };
  return { port, proc, get, stop };
}
