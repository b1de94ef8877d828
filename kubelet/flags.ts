// Command-line flags of kubeling-kubelet, named as upstream's kubelet's, declared with
// pkg/runtime/flags.ts: each flag can also come from an environment variable, shown in --help:
// KUBELING_KUBELET_<FLAG> (the kubelet's own prefix, so that KUBELING_CLUSTER_NAME of compose or
// the API server's KUBELING_PORT-like variables never reach it), except KUBECONFIG,
// KUBELING_NODE_NAME and LOG_LEVEL, the names they have always had. Precedence: flag > env > default.

import { hostname } from "node:os";
import { type Command, InvalidArgumentError } from "commander";
import {
  boolArg,
  componentCommand,
  countArg,
  durationArg,
  flag,
  listArg,
  portArg,
  positiveDurationArg,
} from "#pkg/runtime/flags.js";
import { KUBELET_TOKEN_CACHE_TTL_MS } from "#pkg/server/authentication.js";
import { KUBELET_AUTHORIZED_TTL_MS, KUBELET_UNAUTHORIZED_TTL_MS } from "#pkg/server/authorization.js";

export interface KubeletFlags {
  kubeconfig?: string;
  hostnameOverride: string;
  nodeIp?: string;
  address: string;
  port: number;
  /** The serving certificate of the kubelet's port (else a self-signed kubelet.crt in certDir). */
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  /** Where the self-signed pair is kept (default: <root-dir>/pki). */
  certDir?: string;
  /** Client certificates signed by these CAs authenticate (the API server's kubelet-client one). */
  clientCaFile?: string;
  anonymousAuth: boolean;
  /** Bearer tokens authenticate through the API server's TokenReview. */
  authenticationTokenWebhook: boolean;
  authenticationTokenWebhookCacheTtl: number;
  /** Webhook (SubjectAccessReview) or AlwaysAllow. */
  authorizationMode: "Webhook" | "AlwaysAllow";
  authorizationWebhookCacheAuthorizedTtl: number;
  authorizationWebhookCacheUnauthorizedTtl: number;
  /** Upstream's healthz endpoint (/healthz, and here /livez /readyz too; never /metrics); 0 disables it. */
  healthzPort: number;
  healthzBindAddress: string;
  clusterName: string;
  podInfraContainerImage: string;
  nodeLabels?: string;
  registerWithTaints?: string;
  capacityCpu?: string;
  capacityMemory?: string;
  maxPods: number;
  crashloopBackoffBase: number;
  imagePullBackoffBase: number;
  backoffMax: number;
  nodeStatusUpdateFrequency: number;
  /** The node Lease's duration; the kubelet renews it every quarter of it (upstream NodeLeaseRenewIntervalFraction). */
  nodeLeaseDurationSeconds: number;
  rootDir?: string;
  clusterDns: string[];
  clusterDomain: string;
  logLevel: string;
}

function positiveCountArg(value: string): number {
  const n = countArg(value);
  if (n <= 0) throw new InvalidArgumentError(`invalid count "${value}": must be greater than 0`);
  return n;
}

/** The kubelet's durations are periods and backoffs: each must be > 0 (0 would spin). */
const seconds = (s: number) => ({ default: s * 1000, defaultDescription: `${s}s`, parse: positiveDurationArg });

/** buildCommand declares the flags; exported so --help can be tested. */
export function buildCommand(): Command {
  return componentCommand(
    "kubeling-kubelet",
    "Runs the pods bound to this node as Docker containers.",
    "KUBELING_KUBELET_",
  )
    .addOption(flag("--kubeconfig <path>", "kubeconfig to reach the API server", { env: "KUBECONFIG" }))
    .addOption(
      flag("--hostname-override <name>", "node name", {
        env: "KUBELING_NODE_NAME",
        default: hostname(),
        defaultDescription: "the host name",
      }),
    )
    .addOption(flag("--node-ip <ip>", "InternalIP of the node (default: the first non-loopback IPv4)"))
    .addOption(
      flag("--address <ip>", "address the kubelet's HTTPS server binds (every request authenticated and authorized)", {
        default: "0.0.0.0",
      }),
    )
    .addOption(flag("--port <port>", "kubelet server port", { default: 10250, parse: portArg }))
    .addOption(
      flag(
        "--tls-cert-file <file>",
        "PEM serving certificate of --port (default: a self-signed kubelet.crt in --cert-dir, made once)",
      ),
    )
    .addOption(flag("--tls-private-key-file <file>", "PEM private key of --tls-cert-file"))
    .addOption(flag("--cert-dir <dir>", "where the self-signed serving certificate is kept (default: <root-dir>/pki)"))
    .addOption(
      flag(
        "--client-ca-file <file>",
        "client certificates signed by these CAs authenticate (CN user, O groups): the API server's kubelet-client certificate",
      ),
    )
    .addOption(
      flag("--anonymous-auth [bool]", "requests without credentials are system:anonymous (kubeadm: false)", {
        default: false,
        parse: boolArg,
      }),
    )
    .addOption(
      flag("--authentication-token-webhook [bool]", "bearer tokens authenticate through the API server's TokenReview", {
        default: true,
        parse: boolArg,
      }),
    )
    .addOption(
      flag("--authentication-token-webhook-cache-ttl <duration>", "how long TokenReview answers are cached", {
        default: KUBELET_TOKEN_CACHE_TTL_MS,
        defaultDescription: "2m0s",
        parse: durationArg,
      }),
    )
    .addOption(
      flag(
        "--authorization-mode <mode>",
        "Webhook: every request is a SubjectAccessReview on nodes/<subresource> of this node; AlwaysAllow: any authenticated caller may",
        { default: "Webhook", choices: ["Webhook", "AlwaysAllow"] },
      ),
    )
    .addOption(
      flag(
        "--authorization-webhook-cache-authorized-ttl <duration>",
        "how long allowed SubjectAccessReview answers are cached",
        { default: KUBELET_AUTHORIZED_TTL_MS, defaultDescription: "5m0s", parse: durationArg },
      ),
    )
    .addOption(
      flag(
        "--authorization-webhook-cache-unauthorized-ttl <duration>",
        "how long denied SubjectAccessReview answers are cached",
        { default: KUBELET_UNAUTHORIZED_TTL_MS, defaultDescription: "30s", parse: durationArg },
      ),
    )
    .addOption(
      flag(
        "--healthz-port <port>",
        "port of the plain-HTTP healthz endpoint (/healthz /livez /readyz, no credentials); 0 disables it",
        { default: 10248, parse: portArg },
      ),
    )
    .addOption(flag("--healthz-bind-address <ip>", "address of the healthz endpoint", { default: "127.0.0.1" }))
    .addOption(flag("--cluster-name <name>", "Docker network and label kubeling.io/cluster", { default: "kubeling" }))
    .addOption(flag("--pod-infra-container-image <image>", "sandbox image", { default: "registry.k8s.io/pause:3.10" }))
    .addOption(flag("--node-labels <k=v,...>", "extra node labels"))
    .addOption(flag("--register-with-taints <k=v:Effect,...>", "taints the node registers with"))
    .addOption(flag("--capacity-cpu <quantity>", "override the host's CPU capacity"))
    .addOption(flag("--capacity-memory <quantity>", "override the host's memory capacity"))
    .addOption(flag("--max-pods <n>", "pods this node takes", { default: 110, parse: countArg }))
    .addOption(
      flag(
        "--crashloop-backoff-base <duration>",
        "CrashLoopBackOff first delay (doubles up to --backoff-max)",
        seconds(10),
      ),
    )
    .addOption(flag("--image-pull-backoff-base <duration>", "ImagePullBackOff first delay", seconds(10)))
    .addOption(flag("--backoff-max <duration>", "cap of both backoffs", seconds(300)))
    .addOption(flag("--node-status-update-frequency <duration>", "how often the node status is written", seconds(10)))
    .addOption(
      flag(
        "--node-lease-duration-seconds <n>",
        "duration of the node's Lease in kube-node-lease; it is renewed every quarter of it",
        { default: 40, parse: positiveCountArg },
      ),
    )
    .addOption(
      flag(
        "--root-dir <dir>",
        "pod volumes (default: /var/lib/kubeling/kubelet/<node>); must be the same path for Docker (mount it at the same path if the kubelet is containerized)",
      ),
    )
    .addOption(
      flag(
        "--cluster-dns <ip,...>",
        "cluster DNS server(s) for dnsPolicy ClusterFirst pods (default: the ClusterIP of the Service kube-system/kube-dns, when it exists)",
        {
          default: [],
          defaultDescription: "none",
          parse: listArg,
        },
      ),
    )
    .addOption(flag("--cluster-domain <domain>", "the cluster's DNS domain", { default: "cluster.local" }))
    .addOption(
      flag("--log-level <level>", "pino log level (trace, debug, info, warn, error)", {
        env: "LOG_LEVEL",
        default: "info",
      }),
    );
}

/** parseFlags parses argv (process.argv form); exits with usage on error, prints --help and exits 0. */
export function parseFlags(argv: readonly string[]): KubeletFlags {
  const cmd = buildCommand();
  cmd.parse(argv as string[]);
  const f = cmd.opts<KubeletFlags>();
  if ((f.tlsCertFile === undefined) !== (f.tlsPrivateKeyFile === undefined))
    cmd.error("error: --tls-cert-file and --tls-private-key-file must be given together");
  return f;
}
