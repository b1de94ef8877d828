// kubeling-proxy (proxy/main.ts) as a real process, beside the scheduler's starter: under the
// cluster's name (its chains are its own, proxy/iptables/chains.ts) and service slot (its
// cluster IPs and node ports are its own, service-slots.ts), healthz and metrics on free
// loopback ports. stop() ends it and then runs `--cleanup`, so no chain, jump or route of the
// cluster stays behind, whatever the test did.

import { spawn } from "node:child_process";
import { join } from "node:path";
import { type HttpsCredentials, httpsGet } from "./https.js";
import { freePort } from "./ports.js";
import { type ComponentProcess, ROOT, startComponent } from "./process.js";

export type ProxyMode = "iptables" | "userspace";

export interface StartProxyOptions {
  kubeconfigPath: string;
  clusterName: string;
  mode: ProxyMode;
  serviceCIDR: string;
  /** The pods' network (--cluster-cidr). */
  clusterCIDR?: string;
  hostname?: string;
  /** The metrics port's --client-ca-file. */
  clientCAFile?: string;
  /** Default credentials of get() (e.g. the API server's admin token). */
  credentials?: HttpsCredentials;
  extraArgs?: string[];
}

export interface TestProxy {
  mode: ProxyMode;
  healthzPort: number;
  metricsPort: number;
  proc: ComponentProcess;
  output(): string;
  /** GET https://127.0.0.1:<metrics port><path> with credentials (/metrics needs `get /metrics`). */
  get(path: string, credentials?: HttpsCredentials): Promise<{ status: number; body: string }>;
  /** SIGTERM (rules stay, as upstream's); then stop() or cleanup() removes them. */
  end(): Promise<void>;
  /** end(), then `kubeling-proxy --cleanup` for the cluster. */
  stop(): Promise<void>;
}

/** runProxyCleanup runs `kubeling-proxy --cleanup` for a cluster and resolves with its output. */
export function runProxyCleanup(o: {
  clusterName: string;
  serviceCIDR: string;
}): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        join(ROOT, "proxy/main.ts"),
        "--cleanup",
        `--cluster-name=${o.clusterName}`,
        `--service-cluster-ip-range=${o.serviceCIDR}`,
      ],
      { cwd: ROOT, env: { ...process.env, LOG_FORMAT: "json" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, out }));
  });
}

/** startProxy starts it and waits for /readyz on the metrics port (its first sync done). */
export async function startProxy(o: StartProxyOptions): Promise<TestProxy> {
  const healthzPort = await freePort();
  const metricsPort = await freePort();
  const proc = startComponent("kubeling-proxy", "proxy/main.ts", [
    `--kubeconfig=${o.kubeconfigPath}`,
    `--proxy-mode=${o.mode}`,
    `--cluster-name=${o.clusterName}`,
    `--service-cluster-ip-range=${o.serviceCIDR}`,
    ...(o.clusterCIDR ? [`--cluster-cidr=${o.clusterCIDR}`] : []),
    ...(o.clientCAFile ? [`--client-ca-file=${o.clientCAFile}`] : []),
    `--hostname-override=${o.hostname ?? "node-1"}`,
    `--healthz-bind-address=127.0.0.1:${healthzPort}`,
    `--metrics-bind-address=127.0.0.1:${metricsPort}`,
    // Tests change services and endpoints in bursts: sync as soon as allowed.
    "--min-sync-period=100ms",
    ...(o.extraArgs ?? []),
  ]);
  const end = () => proc.end("SIGTERM");
  const stop = async () => {
    await end();
    const r = await runProxyCleanup(o);
    if (r.code !== 0) process.stderr.write(`[harness] kubeling-proxy --cleanup failed: ${r.out}\n`);
  };
  try {
    await proc.waitHealthy(metricsPort, "/readyz", 60_000, "127.0.0.1", "https");
  } catch (err) {
    await stop();
    throw err;
  }
  const get = async (path: string, credentials: HttpsCredentials = o.credentials ?? {}) => {
    const r = await httpsGet(`https://127.0.0.1:${metricsPort}${path}`, credentials);
    return { status: r.status, body: r.body };
  };
  return { mode: o.mode, healthzPort, metricsPort, proc, output: proc.output, get, end, stop };
}
