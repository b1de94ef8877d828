// Command-line flags of kubeling-kubelet, named as upstream's kubelet's, declared with
// pkg/runtime/flags.ts: each flag can also come from an environment variable, shown in --help:
// KUBELING_KUBELET_<FLAG> (the kubelet's own prefix, so that KUBELING_CLUSTER_NAME of compose or
// the API server's KUBELING_PORT-like variables never reach it), except KUBECONFIG,
// KUBELING_NODE_NAME and LOG_LEVEL, the names they have always had. Precedence: flag > env > default.

import { hostname } from "node:os";
import { type Command, InvalidArgumentError } from "commander";
import { componentCommand, countArg, flag, listArg, portArg, positiveDurationArg } from "#pkg/runtime/flags.js";

export interface KubeletFlags {
  kubeconfig?: string;
  hostnameOverride: string;
  nodeIp?: string;
  address: string;
  port: number;
  /** Upstream's healthz endpoint (/healthz, and here /livez /readyz /metrics too); 0 disables it. */
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
      flag(
        "--address <ip>",
        "address the kubelet server binds; plain HTTP, no auth of its own: only the API server should reach it",
        { default: "0.0.0.0" },
      ),
    )
    .addOption(flag("--port <port>", "kubelet server port", { default: 10250, parse: portArg }))
    .addOption(
      flag("--healthz-port <port>", "port of the healthz endpoint (/healthz /livez /readyz /metrics); 0 disables it", {
        default: 10248,
        parse: portArg,
      }),
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
      flag("--cluster-dns <ip,...>", "cluster DNS server(s) for dnsPolicy ClusterFirst pods", {
        default: [],
        defaultDescription: "none",
        parse: listArg,
      }),
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
  return cmd.opts<KubeletFlags>();
}
