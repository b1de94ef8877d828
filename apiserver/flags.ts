// Command-line flags of kubeling-apiserver, named as upstream kube-apiserver's (plus a few
// kubeling ones), declared with pkg/runtime/flags.ts: every flag can also come from an
// environment variable (KUBELING_<FLAG_IN_UPPER_SNAKE>); precedence is flag > env > default.
// --help lists both.

import { isIP } from "node:net";
import { type Command, InvalidArgumentError } from "commander";
import {
  boolArg,
  componentCommand,
  countArg,
  DEFAULT_ENV_PREFIX,
  durationArg,
  flag,
  listArg,
  portArg,
  repeatedFlag,
} from "#pkg/runtime/flags.js";
import { ALL_ADMISSION_PLUGINS, DEFAULT_ADMISSION_PLUGINS, enabledAdmissionPlugins } from "./admission/plugins.js";
import { type AuthorizationMode, validateModes } from "./auth/authorizer/modes.js";
import { DEFAULT_KUBELET_ADDRESS_TYPES, KUBELET_ADDRESS_TYPES, type KubeletClientOptions } from "./kubelet-client.js";
import { DEFAULT_NODE_PORT_RANGE, parsePortRange } from "./registry/core/service/allocator.js";

export interface ApiServerOptions {
  etcdServers: string[];
  /** Upstream --etcd-cafile: verify etcd's serving certificate against this CA (https etcd servers). */
  etcdCAFile?: string;
  /** Upstream --etcd-certfile/--etcd-keyfile: the client certificate etcd's --client-cert-auth checks. */
  etcdCertFile?: string;
  etcdKeyFile?: string;
  etcdPrefix: string;
  /**
   * Upstream --encryption-provider-config: an EncryptionConfiguration; the resources it names
   * are encrypted in etcd (apiserver/storage/value/encryption-config.ts).
   */
  encryptionProviderConfig?: string;
  /**
   * Upstream --bind-address, one address; kubeling takes a comma-separated list (served on the
   * same port): a launcher on the host binds 127.0.0.1 and the pods network's gateway, so pods
   * reach the API server while nothing else on the machine's networks does.
   */
  bindAddresses: string[];
  /** The address the `default/kubernetes` Service's Endpoints point at (upstream --advertise-address). */
  advertiseAddress?: string;
  securePort: number;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** Where a self-signed serving cert is generated on first start (and reused afterwards). */
  certDir: string;
  /**
   * Upstream static token CSV: token,user,uid,"group1,group2". Generated in certDir (one admin
   * token) when neither it nor clientCAFile is given.
   */
  tokenAuthFile?: string;
  /** Upstream --client-ca-file: client certificates signed by these CAs authenticate (CN user, O groups). */
  clientCAFile?: string;
  /**
   * Upstream --anonymous-auth (default true). Honoured only with an authorizer other than
   * AlwaysAllow (auth/authenticator.ts anonymousEnabled).
   */
  anonymousAuth: boolean;
  /**
   * Upstream --service-account-issuer: the first is the iss of the tokens this server issues,
   * every one is accepted. Default (kubeling; upstream requires the flag) kubeadm's
   * https://kubernetes.default.svc.cluster.local.
   */
  serviceAccountIssuers: string[];
  /**
   * Upstream --service-account-signing-key-file: the private key tokens are signed with. Absent
   * (kubeling), one is generated in certDir (sa.key) on first start and kept.
   */
  serviceAccountSigningKeyFile?: string;
  /** Upstream --service-account-key-file: the keys tokens are verified with; none: the signing key's. */
  serviceAccountKeyFiles: string[];
  /** Upstream --service-account-jwks-uri: the discovery document's jwks_uri. */
  serviceAccountJWKSURI?: string;
  /** Upstream --service-account-max-token-expiration in seconds; 0: no cap. */
  serviceAccountMaxTokenExpirationSeconds: number;
  /** Upstream --service-account-extend-token-expiration (default true). */
  serviceAccountExtendTokenExpiration: boolean;
  /** Upstream --api-audiences; default: the issuers. */
  apiAudiences: string[];
  /** Upstream --authorization-mode, in order (system:masters is always allowed first). */
  authorizationModes: AuthorizationMode[];
  serviceClusterIPRange: string;
  /** Upstream --service-node-port-range ("30000-32767"). */
  serviceNodePortRange: string;
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
  /** The admission plugins to run, resolved from --enable-admission-plugins/--disable-admission-plugins. */
  admissionPlugins: string[];
  /** The API server's side of the kubelet's port: apiserver/kubelet-client.ts. */
  kubeletClient: KubeletClientOptions;
  /** Upstream --audit-log-path: where audit events go, one JSON line each ("-": stdout). */
  auditLogPath?: string;
  /** Upstream --audit-policy-file: the audit.k8s.io/v1 Policy; without it nothing is audited. */
  auditPolicyFile?: string;
  logLevel: string;
}

const DEFAULT_ETCD = "http://127.0.0.1:2379";
/** kubeadm's --service-account-issuer. */
export const DEFAULT_ISSUER = "https://kubernetes.default.svc.cluster.local";
/** Upstream's bounds of --service-account-max-token-expiration. */
const MAX_EXPIRATION_BOUNDS_SECONDS = [60 * 60, 2 ** 32] as const;

/** upstream's checks of --service-account-issuer: a URL when it has a colon, never empty. */
function issuerErrors(issuers: readonly string[]): string[] {
  const errs: string[] = [];
  for (const iss of issuers) {
    if (iss === "") errs.push("service-account-issuer should not be an empty string");
    else if (iss.includes(":")) {
      try {
        new URL(iss);
      } catch {
        errs.push(`service-account-issuer contained a ':' but was not a valid URL: ${iss}`);
      }
    }
  }
  if (new Set(issuers).size !== issuers.length) errs.push("service-account-issuer contains duplicate values");
  return errs;
}

/** addressTypesArg: upstream's --kubelet-preferred-address-types values, each once. */
function addressTypesArg(value: string): string[] {
  const list = [...new Set(listArg(value))];
  for (const t of list)
    if (!KUBELET_ADDRESS_TYPES.includes(t))
      throw new InvalidArgumentError(`unknown address type "${t}" (want ${KUBELET_ADDRESS_TYPES.join(", ")})`);
  if (list.length === 0) throw new InvalidArgumentError("--kubelet-preferred-address-types wants at least one type");
  return list;
}

/** bindAddressesArg: a comma-separated list of IP addresses, each once; 0.0.0.0 (or ::) only alone. */
function bindAddressesArg(value: string): string[] {
  const list = [...new Set(listArg(value))];
  if (list.length === 0) throw new InvalidArgumentError("--bind-address wants at least one address");
  for (const a of list) if (isIP(a) === 0) throw new InvalidArgumentError(`invalid IP address "${a}"`);
  if (list.length > 1 && list.some((a) => a === "0.0.0.0" || a === "::"))
    throw new InvalidArgumentError(`"0.0.0.0" and "::" already cover every address: give them alone`);
  return list;
}

/** portRangeArg: a node port range as upstream parses it ("30000-32767", "30000+2767"). */
function portRangeArg(value: string): string {
  try {
    parsePortRange(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return value;
}

/** buildCommand declares the flags; exported so --help can be tested. */
export function buildCommand(): Command {
  return componentCommand(
    "kubeling-apiserver",
    "The kubeling API server: Kubernetes' REST API over etcd, served over TLS.",
    DEFAULT_ENV_PREFIX,
  )
    .addOption(
      flag("--etcd-servers <urls>", "comma-separated etcd client URLs", {
        default: [DEFAULT_ETCD],
        defaultDescription: `"${DEFAULT_ETCD}"`,
        parse: listArg,
      }),
    )
    .addOption(flag("--etcd-cafile <file>", "SSL Certificate Authority file used to secure etcd communication"))
    .addOption(flag("--etcd-certfile <file>", "SSL certification file used to secure etcd communication"))
    .addOption(flag("--etcd-keyfile <file>", "SSL key file used to secure etcd communication"))
    .addOption(flag("--etcd-prefix <prefix>", "key prefix of every object in etcd", { default: "/registry" }))
    .addOption(
      flag(
        "--encryption-provider-config <file>",
        "the file containing configuration for encryption providers to be used for storing secrets in etcd (an apiserver.config.k8s.io/v1 EncryptionConfiguration: aescbc, aesgcm, secretbox, identity)",
      ),
    )
    .addOption(
      flag(
        "--bind-address <ip,...>",
        "address to listen on (kubeling: several, comma-separated, share --secure-port, e.g. 127.0.0.1 and the pods network's gateway)",
        { default: ["0.0.0.0"], defaultDescription: '"0.0.0.0"', parse: bindAddressesArg },
      ),
    )
    .addOption(
      flag(
        "--advertise-address <ip>",
        "address the kubernetes Service's Endpoints advertise (default: the first non-loopback --bind-address, or the first non-loopback IPv4)",
      ),
    )
    .addOption(flag("--secure-port <port>", "HTTPS port (0 picks a free one)", { default: 6443, parse: portArg }))
    .addOption(flag("--tls-cert-file <file>", "PEM serving certificate (default: self-signed in --cert-dir)"))
    .addOption(flag("--tls-private-key-file <file>", "PEM private key matching --tls-cert-file"))
    .addOption(
      flag(
        "--cert-dir <dir>",
        "where the self-signed certificate (apiserver.crt/.key) and the generated token file are kept",
        { default: ".kubeling/apiserver" },
      ),
    )
    .addOption(
      flag(
        "--token-auth-file <file>",
        'static bearer tokens, CSV: token,user,uid,"group1,group2" (default: one admin token generated in --cert-dir)',
      ),
    )
    .addOption(
      flag(
        "--client-ca-file <file>",
        "PEM CA bundle: a client certificate it signed authenticates its subject CN as the user, O as the groups",
      ),
    )
    .addOption(
      repeatedFlag(
        "--service-account-issuer <url>",
        "identifier of the service account token issuer (the iss claim); repeat the flag to accept more issuers, the first issues",
        { defaultDescription: `"${DEFAULT_ISSUER}"` },
      ),
    )
    .addOption(
      flag(
        "--service-account-signing-key-file <file>",
        "PEM private key (RSA or ECDSA) service account tokens are signed with (default: sa.key generated in --cert-dir)",
      ),
    )
    .addOption(
      repeatedFlag(
        "--service-account-key-file <file>",
        "PEM public or private keys (RSA or ECDSA; a file may hold several, the flag may repeat) that verify service account tokens (default: the signing key)",
      ),
    )
    .addOption(
      flag(
        "--service-account-jwks-uri <url>",
        "jwks_uri of the discovery document at /.well-known/openid-configuration (default: https://<advertise address>:<port>/openid/v1/jwks)",
      ),
    )
    .addOption(
      flag(
        "--service-account-max-token-expiration <duration>",
        "the longest validity of a token a TokenRequest gets; longer requests are shortened (0: no limit)",
        { default: 0, defaultDescription: "0", parse: durationArg },
      ),
    )
    .addOption(
      flag(
        "--service-account-extend-token-expiration [bool]",
        "extend a kubelet's pod-bound 1h7s token to a year, flagged stale after the hour, as upstream's safe rollout",
        { default: true, parse: boolArg },
      ),
    )
    .addOption(
      repeatedFlag(
        "--api-audiences <audiences>",
        "identifiers of the API: tokens used against it must be bound to one of them (default: the service account issuers)",
        { split: listArg },
      ),
    )
    .addOption(
      flag(
        "--authorization-mode <modes>",
        "ordered comma-separated authorizers: AlwaysAllow, AlwaysDeny, Node, RBAC (system:masters is always allowed)",
        // kubeadm's default, and upstream's recommended one: every component has its own identity.
        { default: ["Node", "RBAC"], defaultDescription: '"Node,RBAC"', parse: listArg },
      ),
    )
    .addOption(
      flag(
        "--anonymous-auth [bool]",
        "requests without credentials are system:anonymous in system:unauthenticated (ignored under AlwaysAllow alone); the bootstrap RBAC policy lets them reach /healthz, /livez, /readyz and /version only",
        { default: true, parse: boolArg },
      ),
    )
    .addOption(
      flag(
        "--kubelet-client-certificate <file>",
        "client certificate the API server presents to kubelets (kubeadm: apiserver-kubelet-client.crt)",
      ),
    )
    .addOption(flag("--kubelet-client-key <file>", "private key of --kubelet-client-certificate"))
    .addOption(
      flag(
        "--kubelet-certificate-authority <file>",
        "CA bundle kubelets' serving certificates are verified against (none: not verified, as upstream)",
      ),
    )
    .addOption(
      flag(
        "--kubelet-preferred-address-types <types>",
        "the Node address types tried, in order, to reach a kubelet (kubeadm's order)",
        {
          default: DEFAULT_KUBELET_ADDRESS_TYPES,
          defaultDescription: DEFAULT_KUBELET_ADDRESS_TYPES.join(","),
          parse: addressTypesArg,
        },
      ),
    )
    .addOption(
      flag("--service-cluster-ip-range <cidr>", "CIDR Service ClusterIPs are allocated from", {
        default: "10.96.0.0/12",
      }),
    )
    .addOption(
      flag(
        "--service-node-port-range <range>",
        "the port range reserved for NodePort services (inclusive on both ends; e.g. '30000-32767')",
        { default: DEFAULT_NODE_PORT_RANGE, parse: portRangeArg },
      ),
    )
    .addOption(
      flag("--etcd-compaction-interval <duration>", "how often etcd history is compacted (0 disables)", {
        default: 5 * 60_000,
        defaultDescription: "5m",
        parse: durationArg,
      }),
    )
    .addOption(
      flag("--event-ttl <duration>", "how long Events are kept (etcd leases)", {
        default: 60 * 60_000,
        defaultDescription: "1h",
        parse: durationArg,
      }),
    )
    .addOption(flag("--write-kubeconfig <path>", "kubeling: write a kubeconfig (first token, CA embedded) here"))
    .addOption(
      flag(
        "--kubeconfig-server <url>",
        "kubeling: server URL for --write-kubeconfig (default https://127.0.0.1:<port>)",
      ),
    )
    .addOption(
      flag(
        "--max-requests-inflight <n>",
        "concurrent non-mutating requests before 429 (0: no limit; watches excluded)",
        { default: 400, parse: countArg },
      ),
    )
    .addOption(
      flag("--max-mutating-requests-inflight <n>", "concurrent mutating requests before 429 (0: no limit)", {
        default: 200,
        parse: countArg,
      }),
    )
    .addOption(
      flag(
        "--enable-admission-plugins <names>",
        `admission plugins to enable beyond the default ones (${DEFAULT_ADMISSION_PLUGINS.join(", ")}); known: ${ALL_ADMISSION_PLUGINS.join(", ")}. The order does not matter`,
        { default: [], defaultDescription: '""', parse: listArg },
      ),
    )
    .addOption(
      flag("--disable-admission-plugins <names>", "admission plugins to disable, default ones included", {
        default: [],
        defaultDescription: '""',
        parse: listArg,
      }),
    )
    .addOption(
      flag(
        "--audit-log-path <path>",
        'write audit events here, one JSON audit.k8s.io/v1 Event a line ("-": standard out); needs --audit-policy-file',
      ),
    )
    .addOption(
      flag(
        "--audit-policy-file <file>",
        "the audit.k8s.io/v1 Policy (YAML or JSON) that decides what is audited, and at which level",
      ),
    )
    .addOption(flag("--log-level <level>", "pino log level (trace, debug, info, warn, error)", { default: "info" }))
    .addHelpText(
      "after",
      "\nAlways serves HTTPS. Requests authenticate by a client certificate signed by --client-ca-file or a\n" +
        "bearer token from the token file; without either they are system:anonymous, which the bootstrap RBAC\n" +
        "policy lets reach only /healthz, /livez, /readyz and /version (system:public-info-viewer). /metrics\n" +
        "needs a user allowed the /metrics URL (system:monitoring). With --authorization-mode=AlwaysAllow\n" +
        "anonymous requests are refused (401) but for those four paths, as upstream.",
    );
}

/** What commander hands back: ApiServerOptions but for the names that differ from the flags'. */
type ParsedFlags = Omit<
  ApiServerOptions,
  | "bindAddresses"
  | "authorizationModes"
  | "serviceClusterIPRange"
  | "serviceNodePortRange"
  | "etcdCompactionIntervalMs"
  | "eventTTLSeconds"
  | "clientCAFile"
  | "admissionPlugins"
  | "etcdCAFile"
  | "etcdCertFile"
  | "etcdKeyFile"
  | "serviceAccountIssuers"
  | "serviceAccountKeyFiles"
  | "serviceAccountJWKSURI"
  | "serviceAccountMaxTokenExpirationSeconds"
  | "serviceAccountExtendTokenExpiration"
  | "apiAudiences"
  | "kubeletClient"
> & {
  serviceAccountIssuer?: string[];
  serviceAccountKeyFile?: string[];
  serviceAccountJwksUri?: string;
  serviceAccountMaxTokenExpiration: number;
  serviceAccountExtendTokenExpiration: boolean;
  apiAudiences?: string[];
  bindAddress: string[];
  authorizationMode: string[];
  kubeletClientCertificate?: string;
  kubeletClientKey?: string;
  kubeletCertificateAuthority?: string;
  kubeletPreferredAddressTypes: string[];
  etcdCafile?: string;
  etcdCertfile?: string;
  etcdKeyfile?: string;
  clientCaFile?: string;
  enableAdmissionPlugins: string[];
  disableAdmissionPlugins: string[];
  serviceClusterIpRange: string;
  serviceNodePortRange: string;
  etcdCompactionInterval: number;
  eventTtl: number;
};

/** parseFlags parses argv (process.argv form) into frozen options; exits with usage on error. */
export function parseFlags(argv: readonly string[]): ApiServerOptions {
  const cmd = buildCommand();
  cmd.parse(argv as string[]);
  const o = cmd.opts<ParsedFlags>();
  if ((o.tlsCertFile === undefined) !== (o.tlsPrivateKeyFile === undefined)) {
    cmd.error("error: --tls-cert-file and --tls-private-key-file must be given together");
  }
  if ((o.etcdCertfile === undefined) !== (o.etcdKeyfile === undefined)) {
    cmd.error("error: --etcd-certfile and --etcd-keyfile must be given together");
  }
  const httpsEtcd = o.etcdServers.some((u) => u.startsWith("https://"));
  if (httpsEtcd && !o.etcdCafile) cmd.error("error: https --etcd-servers need --etcd-cafile");
  if (!httpsEtcd && (o.etcdCafile || o.etcdCertfile)) {
    cmd.error("error: --etcd-cafile/--etcd-certfile are for https --etcd-servers");
  }
  let admissionPlugins: string[] = [];
  try {
    admissionPlugins = enabledAdmissionPlugins(o.enableAdmissionPlugins, o.disableAdmissionPlugins);
  } catch (err) {
    cmd.error(`error: ${(err as Error).message}`);
  }
  if ((o.kubeletClientCertificate === undefined) !== (o.kubeletClientKey === undefined)) {
    cmd.error("error: --kubelet-client-certificate and --kubelet-client-key must be given together");
  }
  const modeErrors = validateModes(o.authorizationMode);
  if (modeErrors.length > 0) cmd.error(`error: ${modeErrors.join(", ")}`);
  const issuers = o.serviceAccountIssuer ?? [DEFAULT_ISSUER];
  const issuerErrs = issuerErrors(issuers);
  if (issuerErrs.length > 0) cmd.error(`error: ${issuerErrs.join(", ")}`);
  const maxExpiration = Math.floor(o.serviceAccountMaxTokenExpiration / 1000);
  const [lo, hi] = MAX_EXPIRATION_BOUNDS_SECONDS;
  if (maxExpiration !== 0 && (maxExpiration < lo || maxExpiration > hi)) {
    cmd.error("error: service-account-max-token-expiration is out of range, must be between 1 hour and 2^32 seconds");
  }
  if ((o.serviceAccountKeyFile ?? []).length > 0 && !o.serviceAccountSigningKeyFile) {
    cmd.error(
      "error: --service-account-key-file needs --service-account-signing-key-file (the generated key verifies only its own tokens)",
    );
  }
  const options: ApiServerOptions = {
    authorizationModes: o.authorizationMode as AuthorizationMode[],
    etcdServers: o.etcdServers,
    etcdPrefix: o.etcdPrefix,
    bindAddresses: o.bindAddress,
    securePort: o.securePort,
    certDir: o.certDir,
    serviceClusterIPRange: o.serviceClusterIpRange,
    serviceNodePortRange: o.serviceNodePortRange,
    etcdCompactionIntervalMs: o.etcdCompactionInterval,
    eventTTLSeconds: Math.max(1, Math.round(o.eventTtl / 1000)),
    maxRequestsInflight: o.maxRequestsInflight,
    maxMutatingRequestsInflight: o.maxMutatingRequestsInflight,
    admissionPlugins,
    logLevel: o.logLevel,
    anonymousAuth: o.anonymousAuth,
    serviceAccountIssuers: issuers,
    serviceAccountKeyFiles: o.serviceAccountKeyFile ?? [],
    serviceAccountMaxTokenExpirationSeconds: maxExpiration,
    serviceAccountExtendTokenExpiration: o.serviceAccountExtendTokenExpiration,
    apiAudiences: o.apiAudiences && o.apiAudiences.length > 0 ? o.apiAudiences : [...issuers],
    kubeletClient: {
      preferredAddressTypes: o.kubeletPreferredAddressTypes,
      ...(o.kubeletClientCertificate ? { certFile: o.kubeletClientCertificate } : {}),
      ...(o.kubeletClientKey ? { keyFile: o.kubeletClientKey } : {}),
      ...(o.kubeletCertificateAuthority ? { caFile: o.kubeletCertificateAuthority } : {}),
    },
  };
  if (o.serviceAccountSigningKeyFile) options.serviceAccountSigningKeyFile = o.serviceAccountSigningKeyFile;
  if (o.serviceAccountJwksUri) options.serviceAccountJWKSURI = o.serviceAccountJwksUri;
  if (o.advertiseAddress) options.advertiseAddress = o.advertiseAddress;
  if (o.tlsCertFile) options.tlsCertFile = o.tlsCertFile;
  if (o.tlsPrivateKeyFile) options.tlsPrivateKeyFile = o.tlsPrivateKeyFile;
  if (o.tokenAuthFile) options.tokenAuthFile = o.tokenAuthFile;
  if (o.clientCaFile) options.clientCAFile = o.clientCaFile;
  if (o.etcdCafile) options.etcdCAFile = o.etcdCafile;
  if (o.etcdCertfile) options.etcdCertFile = o.etcdCertfile;
  if (o.etcdKeyfile) options.etcdKeyFile = o.etcdKeyfile;
  if (o.encryptionProviderConfig) options.encryptionProviderConfig = o.encryptionProviderConfig;
  if (o.writeKubeconfig) options.writeKubeconfig = o.writeKubeconfig;
  if (o.kubeconfigServer) options.kubeconfigServer = o.kubeconfigServer;
  if (o.auditLogPath) options.auditLogPath = o.auditLogPath;
  if (o.auditPolicyFile) options.auditPolicyFile = o.auditPolicyFile;
  return Object.freeze(options);
}
