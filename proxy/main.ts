// kubeling-proxy: Services on this host, as kube-proxy: cluster IPs, node ports and (kubeling's
// host load balancer) LoadBalancer ports, balanced over each service's ready endpoints.
// --proxy-mode=iptables (Linux, root: upstream's chains through iptables-restore) or userspace
// (Node sockets; cluster IPs only with iptables rights, node ports always). Flags keep upstream's
// names; each is also read from KUBELING_PROXY_<FLAG> (pkg/runtime/flags.ts), LOG_LEVEL for
// --log-level. The shape of scheduler/main.ts: flags → logger → client → ProxyApp → run until
// the shutdown signal → drain. `--cleanup` removes this cluster's chains, jumps and route, then
// exits. Rules stay installed when it stops (as upstream's), so traffic keeps flowing across
// restarts.

import os from "node:os";
import { ApiClient } from "#pkg/client/client.js";
import { loadKubeconfig } from "#pkg/client/kubeconfig.js";
import {
  boolArg,
  componentCommand,
  durationArg,
  flag,
  listArg,
  positiveDurationArg,
  runMain,
} from "#pkg/runtime/flags.js";
import { HealthServer } from "#pkg/runtime/health-server.js";
import { createLogger, type Logger } from "#pkg/runtime/log.js";
import { newRegistry } from "#pkg/runtime/metrics.js";
import { shutdownSignal } from "#pkg/runtime/signals.js";
import { DELEGATED_TOKEN_CACHE_TTL_MS } from "#pkg/server/authentication.js";
import {
  DEFAULT_ALWAYS_ALLOW_PATHS,
  DELEGATED_AUTHORIZED_TTL_MS,
  DELEGATED_UNAUTHORIZED_TTL_MS,
} from "#pkg/server/authorization.js";
import { DelegatedServer } from "#pkg/server/delegated.js";
import { type Proxier, ProxyApp } from "./app.js";
import { defaultNodeIP, ExecHostNetwork, hostIPv4Addresses, isRoot } from "./host.js";
import { chainNames, DEFAULT_CLUSTER_NAME } from "./iptables/chains.js";
import { ExecIptables } from "./iptables/iptables.js";
import { cleanupChains, IptablesProxier } from "./iptables/proxier.js";
import { cidrContains } from "./model.js";
import { UserspaceProxier } from "./userspace/proxier.js";

interface Flags {
  kubeconfig?: string;
  master?: string;
  proxyMode?: string;
  hostnameOverride?: string;
  clusterName: string;
  serviceClusterIpRange: string[];
  clusterCidr?: string;
  nodeportAddresses?: string[];
  masqueradeAll: boolean;
  bindAddress: string;
  syncPeriod: number;
  minSyncPeriod: number;
  udpTimeout: number;
  healthzBindAddress: string;
  metricsBindAddress: string;
  clientCaFile?: string;
  certDir?: string;
  cleanup: boolean;
  procSysDir: string;
  logLevel: string;
}

/** hostPortArg: "0.0.0.0:10256" → {host, port}; port 0 picks a free one. */
function hostPortArg(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(":");
  const host = i >= 0 ? value.slice(0, i) : value;
  const port = i >= 0 ? Number(value.slice(i + 1)) : 0;
  if (!host || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid address "${value}"`);
  return { host, port };
}

function program() {
  return componentCommand(
    "kubeling-proxy",
    "Serves Services on this host: cluster IPs, node ports and LoadBalancer ports (as kube-proxy).",
    "KUBELING_PROXY_",
  )
    .addOption(
      flag("--kubeconfig <path>", "kubeconfig of the API server (default: $KUBECONFIG, ~/.kube/config)", {
        env: false,
      }),
    )
    .addOption(flag("--master <url>", "the API server's address, instead of the kubeconfig's (upstream's --master)"))
    .addOption(
      flag(
        "--proxy-mode <mode>",
        "iptables (Linux, root: upstream's chains via iptables-restore) or userspace (Node sockets; node ports need no privileges)",
        { choices: ["iptables", "userspace"], defaultDescription: "iptables as root, else userspace" },
      ),
    )
    .addOption(flag("--hostname-override <name>", "this node's name (default: the host name)"))
    .addOption(
      flag(
        "--cluster-name <name>",
        `the cluster (as the kubelets' --cluster-name); chains of a cluster other than "${DEFAULT_CLUSTER_NAME}" carry a suffix of their own, so clusters sharing a host never touch each other's`,
        { default: DEFAULT_CLUSTER_NAME },
      ),
    )
    .addOption(
      flag(
        "--service-cluster-ip-range <cidrs>",
        "the API server's Service range: routed to lo before any rule, so it never leaves the machine; cluster IPs outside it are not served",
        { default: ["10.96.0.0/12"], defaultDescription: "10.96.0.0/12", parse: listArg },
      ),
    )
    .addOption(
      flag(
        "--proc-sys-dir <dir>",
        "the host's /proc/sys, where the sysctls iptables mode needs are set (a container in the host's network, whose own /proc/sys is read-only, mounts the host's elsewhere)",
        { default: "/proc/sys" },
      ),
    )
    .addOption(
      flag(
        "--cluster-cidr <cidr>",
        "the pods' range: traffic to a cluster IP from outside it is masqueraded (default: masquerade what the host itself sends)",
      ),
    )
    .addOption(
      flag(
        "--nodeport-addresses <cidrs>",
        "node ports answer on local addresses in these CIDRs only (default: every local address, 127.0.0.1 included)",
        { parse: listArg },
      ),
    )
    .addOption(
      flag("--masquerade-all [bool]", "masquerade all traffic to cluster IPs", {
        default: false,
        parse: boolArg,
      }),
    )
    .addOption(
      flag("--bind-address <ip>", "the node's address, published as LoadBalancer ingress (0.0.0.0: its InternalIP)", {
        default: "0.0.0.0",
      }),
    )
    .addOption(
      flag("--sync-period <duration>", "longest time between two full syncs", {
        default: 30_000,
        defaultDescription: "30s",
        parse: positiveDurationArg,
      }),
    )
    .addOption(
      flag("--min-sync-period <duration>", "shortest time between two syncs; changes in between fold into one", {
        default: 1000,
        defaultDescription: "1s",
        parse: durationArg,
      }),
    )
    .addOption(
      flag("--udp-timeout <duration>", "userspace mode: an idle UDP flow is closed after this", {
        default: 250,
        defaultDescription: "250ms",
        parse: positiveDurationArg,
      }),
    )
    .addOption(
      flag("--healthz-bind-address <ip:port>", "address of /healthz and /livez (0 as port: any free one)", {
        default: "0.0.0.0:10256",
      }),
    )
    .addOption(
      flag(
        "--metrics-bind-address <ip:port>",
        "HTTPS address of /metrics (users allowed `get /metrics`), /healthz and /readyz (0 as port: any free one)",
        {
          default: "127.0.0.1:10249",
        },
      ),
    )
    .addOption(
      flag(
        "--client-ca-file <file>",
        "the metrics port's client certificates signed by these CAs authenticate (CN user, O groups); tokens go through TokenReview",
      ),
    )
    .addOption(
      flag(
        "--cert-dir <dir>",
        "where the metrics port's self-signed serving certificate is kept (none: made at each start)",
      ),
    )
    .addOption(
      flag("--cleanup [bool]", "remove this cluster's chains, jumps and service-range route, then exit", {
        default: false,
        parse: boolArg,
      }),
    )
    .addOption(flag("--log-level <level>", "pino level", { env: "LOG_LEVEL", default: "info" }))
    .addHelpText(
      "after",
      "\nEnvironment: KUBECONFIG (kubeconfig path), LOG_FORMAT=json. iptables mode needs root and Debian's iptables package.\n",
    );
}

async function cleanup(f: Flags, log: Logger): Promise<void> {
  if (!isRoot()) throw new Error("--cleanup needs root (it removes iptables chains and a route)");
  const chains = chainNames(f.clusterName);
  const removed = await cleanupChains(new ExecIptables(), chains);
  const host = new ExecHostNetwork(f.procSysDir);
  for (const cidr of f.serviceClusterIpRange) await host.removeLocalRoute(cidr);
  log.info({ clusterName: f.clusterName, removed, routes: f.serviceClusterIpRange }, "cleaned up");
}

async function main(): Promise<void> {
  const f = program().parse(process.argv).opts<Flags>();
  const log = createLogger("kube-proxy", f.logLevel);
  if (f.cleanup) return cleanup(f, log);

  // iptables rights: root, and the binaries there (an image without Debian's iptables has none).
  const probe = new ExecIptables();
  const iptablesVersion = isRoot() ? await probe.version().catch(() => undefined) : undefined;
  const root = iptablesVersion !== undefined;
  const mode = f.proxyMode ?? (root && process.platform === "linux" ? "iptables" : "userspace");
  if (mode === "iptables" && !root)
    throw new Error(
      "--proxy-mode=iptables needs root (CAP_NET_ADMIN) and iptables (Debian: apt-get install iptables); use --proxy-mode=userspace",
    );
  const hostname = (f.hostnameOverride ?? os.hostname()).toLowerCase();
  const nodeIP = f.bindAddress !== "0.0.0.0" ? f.bindAddress : undefined;
  const chains = chainNames(f.clusterName);
  const hostAddresses = ["127.0.0.1", nodeIP ?? defaultNodeIP()].filter((a, i, all) => all.indexOf(a) === i);
  const nodePortCIDRs = f.nodeportAddresses ?? [];
  const signal = shutdownSignal({ log });

  let proxier: Proxier;
  if (mode === "iptables") {
    const iptables = probe;
    log.info({ version: iptablesVersion }, "iptables");
    proxier = new IptablesProxier({
      iptables,
      host: new ExecHostNetwork(f.procSysDir),
      serviceCIDRs: f.serviceClusterIpRange,
      log,
      rules: {
        chains,
        hostname,
        ...(f.clusterCidr ? { clusterCIDR: f.clusterCidr } : {}),
        masqueradeAll: f.masqueradeAll,
        nodePortAddresses: nodePortCIDRs,
        hostAddresses,
        randomFully: true,
      },
    });
  } else {
    const local = hostIPv4Addresses();
    proxier = new UserspaceProxier({
      log,
      hostname,
      ...(root
        ? {
            iptables: {
              iptables: new ExecIptables(),
              host: new ExecHostNetwork(f.procSysDir),
              chains,
              serviceCIDRs: f.serviceClusterIpRange,
            },
          }
        : {}),
      nodePortAddresses:
        nodePortCIDRs.length > 0 ? local.filter((a) => nodePortCIDRs.some((c) => cidrContains(c, a))) : [],
      hostAddresses,
      udpIdleTimeoutMs: f.udpTimeout,
    });
    if (!root)
      log.warn(
        "userspace mode without iptables rights (root and the iptables binaries): node ports and LoadBalancer ports only, cluster IPs are not served",
      );
  }

  const config = loadKubeconfig({ ...(f.kubeconfig ? { path: f.kubeconfig } : {}) });
  const client = new ApiClient(f.master ? { ...config, server: f.master.replace(/\/+$/, "") } : config, {
    userAgent: "kubeling-proxy",
  });
  const registry = newRegistry();
  const app = new ProxyApp({
    client,
    proxier,
    log,
    registry,
    hostname,
    ...(nodeIP ? { nodeIP } : {}),
    serviceCIDRs: f.serviceClusterIpRange,
    syncPeriodMs: f.syncPeriod,
    minSyncPeriodMs: f.minSyncPeriod,
  });
  const started = Date.now();
  const livez = { proxier: () => app.healthy(started) };
  // /healthz on its own (upstream's 10256, reachable by load balancers' health checks); /metrics
  // only on the metrics address, loopback by default.
  const healthz = new HealthServer({
    registry,
    livez,
    readyz: { synced: () => app.hasSynced() || "no sync yet" },
    handle: (req, res) => {
      if ((req.url ?? "").split("?")[0] !== "/metrics") return false;
      res.writeHead(404).end("404 page not found");
      return true;
    },
  });
  const m = hostPortArg(f.metricsBindAddress);
  // /metrics as the scheduler's and controller-manager's: HTTPS, delegated authentication and
  // authorization (pkg/server/delegated.ts), so only users allowed `get /metrics` read it.
  const metrics = await DelegatedServer.create({
    flags: {
      bindAddress: m.host,
      securePort: m.port,
      ...(f.certDir ? { certDir: f.certDir } : {}),
      ...(f.clientCaFile ? { clientCaFile: f.clientCaFile } : {}),
      authenticationTokenWebhookCacheTtl: DELEGATED_TOKEN_CACHE_TTL_MS,
      authorizationWebhookCacheAuthorizedTtl: DELEGATED_AUTHORIZED_TTL_MS,
      authorizationWebhookCacheUnauthorizedTtl: DELEGATED_UNAUTHORIZED_TTL_MS,
      authorizationAlwaysAllowPaths: DEFAULT_ALWAYS_ALLOW_PATHS,
    },
    client,
    clientFor: (path) => ApiClient.fromKubeconfig({ path }),
    pairName: "kube-proxy",
    health: { registry, livez, readyz: { synced: () => app.hasSynced() || "no sync yet" } },
    log,
  });
  const h = hostPortArg(f.healthzBindAddress);
  const healthzPort = await healthz.listen(h.port, h.host);
  const metricsPort = await metrics.listen(m.port, m.host);
  log.info(
    {
      mode,
      hostname,
      clusterName: f.clusterName,
      healthz: `${h.host}:${healthzPort}`,
      metrics: `${m.host}:${metricsPort}`,
    },
    "kubeling-proxy serving /healthz and /metrics",
  );

  await app.run(signal);
  await Promise.all([healthz.close(), metrics.close()]);
  await client.close();
  log.info("kubeling-proxy stopped");
}

runMain(main);
