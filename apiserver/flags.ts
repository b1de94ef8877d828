// Command-line flags of kubeling-apiserver, named as upstream kube-apiserver's (plus a few
// kubeling ones). Every flag can also come from an environment variable
// (KUBELING_<FLAG_IN_UPPER_SNAKE>); precedence is flag > env > default. --help lists both.

import { Command, InvalidArgumentError, Option } from "commander";

export interface ApiServerOptions {
  etcdServers: string[];
  etcdPrefix: string;
  bindAddress: string;
  /** The address the `default/kubernetes` Service's Endpoints point at (upstream --advertise-address). */
  advertiseAddress?: string;
  securePort: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** Where a self-signed serving cert is generated on first start (and reused afterwards). */
  certDir: string;
  /** Upstream static token CSV: token,user,uid,"group1,group2". Generated in certDir when not given. */
  tokenAuthFile?: string;
  serviceClusterIPRange: string;
  /** 0 disables compaction. */
  etcdCompactionIntervalMs: number;
  /** How long Events live (upstream --event-ttl, 1h). */
  eventTTLSeconds: number;
  /** kubeling: write a kubeconfig for the first token, CA embedded. */
  writeKubeconfig?: string;
  /** kubeling: the server URL put into that kubeconfig (default https://127.0.0.1:<port>). */
  kubeconfigServer?: string;
  /** 0 disables the limit. */
  maxRequestsInflight: number;
  maxMutatingRequestsInflight: number;
  logLevel: string;
}

/** parseDuration turns a Go-style duration ("5m", "30s", "1h30m", "250ms", "0") into milliseconds. */
export function parseDuration(value: string): number {
  if (/^\d+$/.test(value)) return Number(value) * 1000; // bare number: seconds
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of value.matchAll(re)) {
    const n = Number(m[1]);
    const unit = m[2];
    total += unit === "ms" ? n : unit === "s" ? n * 1000 : unit === "m" ? n * 60_000 : n * 3_600_000;
    consumed += m[0].length;
  }
  if (consumed !== value.length || value.length === 0) throw new InvalidArgumentError(`invalid duration "${value}"`);
  return total;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`invalid port "${value}"`);
  return n;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`invalid count "${value}"`);
  return n;
}

function envName(flag: string): string {
  return `KUBELING_${flag.replace(/-/g, "_").toUpperCase()}`;
}

function opt(flags: string, description: string): Option {
  const long = /--([a-z0-9-]+)/.exec(flags)?.[1] ?? "";
  return new Option(flags, description).env(envName(long));
}

/** buildCommand declares the flags; exported so --help can be tested. */
export function buildCommand(): Command {
  return new Command("kubeling-apiserver")
    .description("The kubeling API server: Kubernetes' REST API over etcd, served over TLS.")
    .addOption(opt("--etcd-servers <urls>", "comma-separated etcd client URLs").default("http://127.0.0.1:2379"))
    .addOption(opt("--etcd-prefix <prefix>", "key prefix of every object in etcd").default("/registry"))
    .addOption(opt("--bind-address <ip>", "address to listen on").default("0.0.0.0"))
    .addOption(
      opt(
        "--advertise-address <ip>",
        "address the kubernetes Service's Endpoints advertise (default: --bind-address, or the first non-loopback IPv4)",
      ),
    )
    .addOption(opt("--secure-port <port>", "HTTPS port (0 picks a free one)").default(6443).argParser(parsePort))
    .addOption(opt("--tls-cert-file <file>", "PEM serving certificate (default: self-signed in --cert-dir)"))
    .addOption(opt("--tls-private-key-file <file>", "PEM private key matching --tls-cert-file"))
    .addOption(
      opt(
        "--cert-dir <dir>",
        "where the self-signed certificate (apiserver.crt/.key) and the generated token file are kept",
      ).default(".kubeling/apiserver"),
    )
    .addOption(
      opt(
        "--token-auth-file <file>",
        'static bearer tokens, CSV: token,user,uid,"group1,group2" (default: one admin token generated in --cert-dir)',
      ),
    )
    .addOption(
      opt("--service-cluster-ip-range <cidr>", "CIDR Service ClusterIPs are allocated from").default("10.96.0.0/12"),
    )
    .addOption(
      opt("--etcd-compaction-interval <duration>", "how often etcd history is compacted (0 disables)")
        .default(5 * 60_000, "5m")
        .argParser(parseDuration),
    )
    .addOption(
      opt("--event-ttl <duration>", "how long Events are kept (etcd leases)")
        .default(60 * 60_000, "1h")
        .argParser(parseDuration),
    )
    .addOption(opt("--write-kubeconfig <path>", "kubeling: write a kubeconfig (first token, CA embedded) here"))
    .addOption(
      opt(
        "--kubeconfig-server <url>",
        "kubeling: server URL for --write-kubeconfig (default https://127.0.0.1:<port>)",
      ),
    )
    .addOption(
      opt("--max-requests-inflight <n>", "concurrent non-mutating requests before 429 (0: no limit; watches excluded)")
        .default(400)
        .argParser(parseCount),
    )
    .addOption(
      opt("--max-mutating-requests-inflight <n>", "concurrent mutating requests before 429 (0: no limit)")
        .default(200)
        .argParser(parseCount),
    )
    .addOption(opt("--log-level <level>", "pino log level (trace, debug, info, warn, error)").default("info"))
    .helpOption("-h, --help", "show this help (every flag also reads KUBELING_<FLAG> from the environment)")
    .addHelpText(
      "after",
      "\nAlways serves HTTPS. Every request needs a bearer token from the token file, except /healthz, /livez,\n" +
        "/readyz and /version; /metrics needs a token, as upstream's does.",
    );
}

/** parseFlags parses argv (process.argv form) into frozen options; exits with usage on error. */
export function parseFlags(argv: readonly string[]): ApiServerOptions {
  const cmd = buildCommand();
  cmd.parse(argv as string[]);
  const o = cmd.opts<{
    etcdServers: string;
    etcdPrefix: string;
    bindAddress: string;
    advertiseAddress?: string;
    securePort: number | string;
    tlsCertFile?: string;
    tlsPrivateKeyFile?: string;
    certDir: string;
    tokenAuthFile?: string;
    serviceClusterIpRange: string;
    etcdCompactionInterval: number | string;
    eventTtl: number | string;
    writeKubeconfig?: string;
    kubeconfigServer?: string;
    maxRequestsInflight: number | string;
    maxMutatingRequestsInflight: number | string;
    logLevel: string;
  }>();
  // Values coming from env vars skip argParser in some commander paths; normalise here.
  const securePort = typeof o.securePort === "number" ? o.securePort : parsePort(o.securePort);
  const compaction =
    typeof o.etcdCompactionInterval === "number" ? o.etcdCompactionInterval : parseDuration(o.etcdCompactionInterval);
  if ((o.tlsCertFile === undefined) !== (o.tlsPrivateKeyFile === undefined)) {
    cmd.error("error: --tls-cert-file and --tls-private-key-file must be given together");
  }
  const options: ApiServerOptions = {
    etcdServers: o.etcdServers
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
    etcdPrefix: o.etcdPrefix,
    bindAddress: o.bindAddress,
    securePort,
    certDir: o.certDir,
    serviceClusterIPRange: o.serviceClusterIpRange,
    etcdCompactionIntervalMs: compaction,
    eventTTLSeconds: Math.max(
      1,
      Math.round((typeof o.eventTtl === "number" ? o.eventTtl : parseDuration(o.eventTtl)) / 1000),
    ),
    maxRequestsInflight:
      typeof o.maxRequestsInflight === "number" ? o.maxRequestsInflight : parseCount(o.maxRequestsInflight),
    maxMutatingRequestsInflight:
      typeof o.maxMutatingRequestsInflight === "number"
        ? o.maxMutatingRequestsInflight
        : parseCount(o.maxMutatingRequestsInflight),
    logLevel: o.logLevel,
  };
  if (o.advertiseAddress) options.advertiseAddress = o.advertiseAddress;
  if (o.tlsCertFile) options.tlsCertFile = o.tlsCertFile;
  if (o.tlsPrivateKeyFile) options.tlsPrivateKeyFile = o.tlsPrivateKeyFile;
  if (o.tokenAuthFile) options.tokenAuthFile = o.tokenAuthFile;
  if (o.writeKubeconfig) options.writeKubeconfig = o.writeKubeconfig;
  if (o.kubeconfigServer) options.kubeconfigServer = o.kubeconfigServer;
  return Object.freeze(options);
}
