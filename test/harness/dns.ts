// kubeling-dns (dns/main.ts) as a real process against a kubeconfig, answering DNS on a given
// address (a pods network's gateway, where pods' resolv.conf points) and port, with /healthz,
// /readyz and /metrics on a free loopback port.

import { freePort } from "./ports.js";
import { type ComponentProcess, startComponent } from "./process.js";

export interface TestDns {
  /** Where it answers DNS. */
  address: string;
  port: number;
  healthPort: number;
  proc: ComponentProcess;
  /** GET http://127.0.0.1:<healthPort><path>. */
  get(path: string): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

/** Starts it and waits for /readyz (informers synced; it answers DNS from then on). */
export async function startDns(o: {
  kubeconfigPath: string;
  address: string;
  /** Default 53: the only port a resolv.conf can name. */
  port?: number;
  extraArgs?: string[];
}): Promise<TestDns> {
  const healthPort = await freePort();
  const port = o.port ?? 53;
  const proc = startComponent("kubeling-dns", "dns/main.ts", [
    `--kubeconfig=${o.kubeconfigPath}`,
    `--dns-bind-address=${o.address}`,
    `--dns-port=${port}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${healthPort}`,
    ...(o.extraArgs ?? []),
  ]);
  const stop = () => proc.end("SIGTERM");
  try {
    await proc.waitHealthy(healthPort, "/readyz", 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  const get = async (path: string) => {
    const r = await fetch(`http://127.0.0.1:${healthPort}${path}`);
    return { status: r.status, body: await r.text() };
  };
  return { address: o.address, port, healthPort, proc, get, stop };
}
