// kubeling-apiserver: parse flags, open the registry (etcd), build the HTTP app, listen over
// TLS, optionally write a kubeconfig, and shut down cleanly on SIGTERM/SIGINT.

import { renameSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { writeKubeconfig } from "#pkg/client/kubeconfig.js";
import { createLogger } from "#pkg/runtime/log.js";
import { ensureTokenFile, loadTokenFile } from "./auth/tokens.js";
import { parseFlags } from "./flags.js";
import { registerKubeletProxy } from "./kubelet-proxy.js";
import { Registry } from "./registry/registry.js";
import { buildServer } from "./server.js";
import { loadServingCert } from "./tls.js";

async function main(): Promise<void> {
  const opts = parseFlags(process.argv);
  const log = createLogger("apiserver", opts.logLevel);

  const cert = await loadServingCert({
    certFile: opts.tlsCertFile,
    keyFile: opts.tlsPrivateKeyFile,
    certDir: opts.certDir,
    sans: opts.bindAddress !== "0.0.0.0" ? [opts.bindAddress] : [],
    log,
  });
  const tokenFile = ensureTokenFile(opts.tokenAuthFile, join(opts.certDir, "tokens.csv"));
  const auth = loadTokenFile(tokenFile);
  log.info({ tokenFile, tokens: auth.size }, "loaded bearer tokens");

  const registry = await Registry.open({
    etcdServers: opts.etcdServers,
    prefix: opts.etcdPrefix,
    serviceClusterIPRange: opts.serviceClusterIPRange,
    compactionIntervalMs: opts.etcdCompactionIntervalMs,
    eventTTLSeconds: opts.eventTTLSeconds,
    log: log.child({ module: "registry" }),
  });

  const server = buildServer({
    registry,
    log,
    auth,
    tls: { cert: cert.cert, key: cert.key },
    maxRequestsInflight: opts.maxRequestsInflight,
    maxMutatingRequestsInflight: opts.maxMutatingRequestsInflight,
    registerKubeletProxy: (app, ctx) => registerKubeletProxy(app, ctx),
  });
  const { app } = server;

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    const force = setTimeout(() => {
      log.warn("shutdown took longer than 10s, exiting");
      process.exit(1);
    }, 10_000);
    force.unref();
    try {
      server.beginShutdown();
      await app.close();
      await registry.close();
    } catch (err) {
      log.error({ err }, "error during shutdown");
    }
    clearTimeout(force);
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));

  await app.listen({ host: opts.bindAddress, port: opts.securePort });
  const port = (app.server.address() as AddressInfo).port;
  log.info({ address: opts.bindAddress, port }, "serving https");

  // The in-cluster way to the API, as upstream: Service default/kubernetes on the range's first IP.
  const advertise = opts.advertiseAddress ?? advertiseAddressFor(opts.bindAddress);
  await registry.ensureKubernetesService({ address: advertise, port });

  if (opts.writeKubeconfig) {
    const token = auth.firstToken as string; // parseTokenFile refuses an empty file
    const serverUrl = opts.kubeconfigServer ?? `https://127.0.0.1:${port}`;
    // Write-then-rename: whoever polls for the file (test harness, launcher) never reads half of it.
    const tmp = `${opts.writeKubeconfig}.tmp-${process.pid}`;
    writeKubeconfig(tmp, { server: serverUrl, token, caPem: cert.caPem, name: "kubeling" });
    renameSync(tmp, opts.writeKubeconfig);
    log.info({ path: opts.writeKubeconfig, server: serverUrl }, "wrote kubeconfig");
  }
}

/** Upstream's default: the bind address, or the first non-loopback IPv4 when bound to all. */
function advertiseAddressFor(bindAddress: string): string {
  if (bindAddress !== "0.0.0.0" && bindAddress !== "::") return bindAddress;
  for (const addrs of Object.values(networkInterfaces())) {
    const v4 = addrs?.find((a) => a.family === "IPv4" && !a.internal);
    if (v4) return v4.address;
  }
  return "127.0.0.1";
}

main().catch((err: unknown) => {
  // The logger may not exist yet (bad flags, unreadable files): plain stderr.
  process.stderr.write(`kubeling-apiserver: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
