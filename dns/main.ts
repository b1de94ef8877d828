// kubeling-dns: the cluster's DNS server (as CoreDNS with the kubernetes plugin in a kubeadm
// cluster): records for Services and their endpoints from informers, everything else forwarded to
// the host's resolvers. It keeps the Service kube-system/kube-dns and its Endpoints (publish.ts),
// so kubelets and kube-proxy find it with no flags. Flags keep CoreDNS's and kube-dns's spirit;
// each is also read from KUBELING_DNS_<FLAG>, LOG_LEVEL for --log-level.

import { networkInterfaces } from "node:os";
import { ENDPOINTS, SERVICES } from "#pkg/api/resources.js";
import type { Endpoints, Service } from "#pkg/api/types/index.js";
import { InformerFactory } from "#pkg/cache/factory.js";
import { ApiClient } from "#pkg/client/client.js";
import { componentCommand, flag, listArg, portArg, runMain } from "#pkg/runtime/flags.js";
import { HealthServer } from "#pkg/runtime/health-server.js";
import { createLogger } from "#pkg/runtime/log.js";
import { newRegistry } from "#pkg/runtime/metrics.js";
import { shutdownSignal } from "#pkg/runtime/signals.js";
import { Forwarder, parseUpstream, resolvConfUpstreams } from "./forwarder.js";
import { ensureService, updateEndpoints } from "./publish.js";
import { ClusterRecords } from "./records.js";
import { DnsServer } from "./server.js";
import { informerState } from "./state.js";

interface Flags {
  kubeconfig?: string;
  clusterDomain: string;
  dnsBindAddress: string;
  dnsPort: number;
  advertiseAddress?: string;
  upstream: string[];
  resolvConf: string;
  publish: boolean;
  bindAddress: string;
  securePort: number;
  logLevel: string;
}

function program() {
  return componentCommand(
    "kubeling-dns",
    "Serves the cluster's DNS: Services and their endpoints by name, everything else forwarded (as CoreDNS).",
    "KUBELING_DNS_",
  )
    .addOption(
      flag("--kubeconfig <path>", "kubeconfig of the API server (default: $KUBECONFIG, ~/.kube/config)", {
        env: false,
      }),
    )
    .addOption(flag("--cluster-domain <domain>", "the cluster's DNS domain", { default: "cluster.local" }))
    .addOption(flag("--dns-bind-address <ip>", "address to answer DNS on (UDP and TCP)", { default: "0.0.0.0" }))
    .addOption(flag("--dns-port <port>", "port to answer DNS on (0 = any)", { default: 53, parse: portArg }))
    .addOption(
      flag(
        "--advertise-address <ip>",
        "address published in the kube-dns Endpoints (default: --dns-bind-address, or the host's first IPv4 address when that is 0.0.0.0)",
      ),
    )
    .addOption(
      flag("--upstream <host[:port],...>", "resolvers for names outside the cluster", {
        default: [],
        defaultDescription: "from --resolv-conf",
        parse: listArg,
      }),
    )
    .addOption(
      flag("--resolv-conf <path>", "where the host's resolvers are read from", { default: "/etc/resolv.conf" }),
    )
    .addOption(flag("--no-publish", "do not keep the Service and Endpoints kube-system/kube-dns", { env: false }))
    .addOption(flag("--bind-address <ip>", "address for /healthz, /readyz and /metrics", { default: "127.0.0.1" }))
    .addOption(
      flag("--secure-port <port>", "port for /healthz, /readyz and /metrics (0 = any)", {
        default: 9153,
        parse: portArg,
      }),
    )
    .addOption(flag("--log-level <level>", "pino level", { env: "LOG_LEVEL", default: "info" }))
    .addHelpText("after", "\nEnvironment: KUBECONFIG (kubeconfig path), LOG_FORMAT=json.\n");
}

/** The host's first non-internal IPv4 address. */
function hostAddress(): string | undefined {
  for (const addrs of Object.values(networkInterfaces()))
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  return undefined;
}

async function main(): Promise<void> {
  const cmd = program().parse(process.argv);
  const f = cmd.opts<Flags>();
  const log = createLogger("dns", f.logLevel);
  const signal = shutdownSignal({ log });
  const client = ApiClient.fromKubeconfig({ ...(f.kubeconfig ? { path: f.kubeconfig } : {}) });
  const registry = newRegistry();
  let upstreams: ReturnType<typeof parseUpstream>[];
  try {
    upstreams = f.upstream.length ? f.upstream.map(parseUpstream) : resolvConfUpstreams(f.resolvConf);
  } catch (err) {
    return cmd.error(`error: --upstream: ${(err as Error).message}`);
  }

  const informers = new InformerFactory(client, { log });
  const services = informers.informer<Service>(SERVICES);
  const endpoints = informers.informer<Endpoints>(ENDPOINTS);
  const records = new ClusterRecords(informerState(services, endpoints), { zone: f.clusterDomain });
  const server = new DnsServer({
    records,
    ...(upstreams.length ? { forwarder: new Forwarder({ upstreams }) } : {}),
    registry,
    log,
  });
  const ac = new AbortController();
  signal.addEventListener("abort", () => ac.abort(), { once: true });
  informers.start(ac.signal);

  /** Set once it answers DNS and has published itself: ready from then on. */
  let serving = false;
  const health = new HealthServer({
    registry,
    readyz: {
      informers: () => (services.hasSynced() && endpoints.hasSynced()) || "not synced",
      dns: () => serving || "not answering DNS yet",
    },
  });
  const healthPort = await health.listen(f.securePort, f.bindAddress);
  // Answer only once the caches are full: an empty cache would say NXDOMAIN for every service.
  await informers.waitForSync(signal);
  const port = await server.listen(f.dnsPort, f.dnsBindAddress);
  const advertise = f.advertiseAddress ?? (f.dnsBindAddress === "0.0.0.0" ? hostAddress() : f.dnsBindAddress);
  log.info(
    {
      port,
      address: f.dnsBindAddress,
      healthPort,
      zone: f.clusterDomain,
      upstreams: upstreams.map((u) => `${u.host}:${u.port}`),
    },
    "kubeling-dns serving",
  );
  const publish = f.publish && advertise ? { client, address: advertise, port, log } : undefined;
  if (publish) {
    const svc = await ensureService(client, log);
    await updateEndpoints(publish, true);
    log.info({ clusterIP: svc.spec?.clusterIP, advertise }, "cluster DNS published as kube-system/kube-dns");
  }
  serving = true;

  await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  if (publish)
    await updateEndpoints(publish, false).catch((err: unknown) =>
      log.warn({ err }, "could not withdraw from kube-dns"),
    );
  await server.close();
  await health.close();
  await informers.stopped();
  await client.close();
  log.info("dns stopped");
}

runMain(main);
