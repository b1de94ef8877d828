// kubeling-kubelet: registers a Node, runs the pods bound to it as Docker containers, and serves
// logs/exec/port-forward for the API server's proxy. Flags follow upstream's names.

import { parseArgs } from "node:util";
import { registry } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import { Informer } from "#pkg/cache/informer.js";
import { ApiClient } from "#pkg/client/client.js";
import { EventRecorder } from "#pkg/controller/events.js";
import { parseDuration } from "#pkg/runtime/duration.js";
import { createLogger } from "#pkg/runtime/log.js";
import { shutdownSignal } from "#pkg/runtime/signals.js";
import { Kubelet } from "./kubelet.js";
import { defaultNodeIP, NodeManager, parseNodeLabels, parseTaints } from "./node.js";
import { DockerRuntime } from "./runtime/docker.js";
import { KubeletServer } from "./server.js";
import { VolumeManager } from "./volumes.js";

const HELP = `kubeling-kubelet: runs the pods bound to this node as Docker containers.

Flags (environment variable in brackets):
  --kubeconfig=PATH                 kubeconfig to reach the API server [KUBECONFIG]
  --hostname-override=NAME          node name (default: the host name) [KUBELING_NODE_NAME]
  --node-ip=IP                      InternalIP of the node (default: first non-loopback IPv4)
  --address=IP                      address the kubelet server binds (default 0.0.0.0); plain HTTP,
                                    no auth of its own: only the API server should reach it
  --port=N                          kubelet server port (default 10250)
  --cluster-name=NAME               Docker network and label kubeling.io/cluster (default kubeling)
  --pod-infra-container-image=IMG   sandbox image (default registry.k8s.io/pause:3.10)
  --node-labels=k=v,...             extra node labels
  --register-with-taints=k=v:Effect,...
  --capacity-cpu=Q --capacity-memory=Q   override the host's capacity
  --max-pods=N                      (default 110)
  --crashloop-backoff-base=DUR      CrashLoopBackOff first delay (default 10s; doubles up to --backoff-max)
  --image-pull-backoff-base=DUR     ImagePullBackOff first delay (default 10s)
  --backoff-max=DUR                 cap of both backoffs (default 300s)
  --node-status-update-frequency=DUR (default 10s)
  --root-dir=DIR                    pod volumes (default /var/lib/kubeling/kubelet/<node>); must be the
                                    same path for Docker (mount it at the same path if the kubelet is containerized)
  --cluster-dns=IP[,IP]             cluster DNS server(s) for dnsPolicy ClusterFirst pods
  --cluster-domain=DOMAIN           (default cluster.local)
  --log-level=LEVEL                 (default info) [LOG_LEVEL]
  -h, --help
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kubeconfig: { type: "string" },
      "hostname-override": { type: "string" },
      "node-ip": { type: "string" },
      address: { type: "string", default: "0.0.0.0" },
      port: { type: "string", default: "10250" },
      "cluster-name": { type: "string", default: "kubeling" },
      "pod-infra-container-image": { type: "string", default: "registry.k8s.io/pause:3.10" },
      "node-labels": { type: "string" },
      "register-with-taints": { type: "string" },
      "capacity-cpu": { type: "string" },
      "capacity-memory": { type: "string" },
      "max-pods": { type: "string", default: "110" },
      "crashloop-backoff-base": { type: "string", default: "10s" },
      "image-pull-backoff-base": { type: "string", default: "10s" },
      "backoff-max": { type: "string", default: "300s" },
      "node-status-update-frequency": { type: "string", default: "10s" },
      "root-dir": { type: "string" },
      "cluster-dns": { type: "string" },
      "cluster-domain": { type: "string", default: "cluster.local" },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const nodeName =
    values["hostname-override"] ?? process.env.KUBELING_NODE_NAME ?? (await import("node:os")).hostname();
  const log = createLogger("kubelet", values["log-level"] ?? process.env.LOG_LEVEL ?? "info").child({ node: nodeName });
  const signal = shutdownSignal({ log });
  const client = ApiClient.fromKubeconfig({ path: values.kubeconfig ?? process.env.KUBECONFIG });
  const clusterName = values["cluster-name"] ?? "kubeling";
  const runtime = new DockerRuntime({ clusterName, nodeName, log });
  const nodeIP = values["node-ip"] ?? defaultNodeIP();
  const backoffMaxMs = parseDuration(values["backoff-max"] ?? "300s");

  const pods = registry.lookup("pods");
  if (!pods) throw new Error("pods missing from the resource registry");
  const kubelet = new Kubelet({
    client,
    pods: new Informer<Pod>(client, pods, {
      fieldSelector: `spec.nodeName=${nodeName}`,
      log: log.child({ module: "pod-informer" }),
    }),
    events: new EventRecorder(client, { component: "kubelet", host: nodeName, log }),
    runtime,
    log,
    nodeName,
    nodeIP,
    podInfraImage: values["pod-infra-container-image"] ?? "registry.k8s.io/pause:3.10",
    crashLoopBackoffBaseMs: parseDuration(values["crashloop-backoff-base"] ?? "10s"),
    crashLoopBackoffMaxMs: backoffMaxMs,
    imagePullBackoffBaseMs: parseDuration(values["image-pull-backoff-base"] ?? "10s"),
    imagePullBackoffMaxMs: backoffMaxMs,
    volumes: new VolumeManager({
      rootDir: values["root-dir"] ?? `/var/lib/kubeling/kubelet/${nodeName}`,
      client,
      log: log.child({ module: "volumes" }),
    }),
    dns: {
      clusterDNS: (values["cluster-dns"] ?? "")
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
      clusterDomain: values["cluster-domain"] ?? "cluster.local",
    },
  });
  const server = new KubeletServer({ kubelet, runtime, log });
  const port = await server.listen(Number(values.port), values.address);
  log.info({ port, address: values.address, nodeIP, clusterName }, "kubelet server listening (plain HTTP)");

  const node = new NodeManager({
    client,
    log,
    nodeName,
    nodeIP,
    port,
    labels: parseNodeLabels(values["node-labels"]),
    taints: parseTaints(values["register-with-taints"]),
    capacityCpu: values["capacity-cpu"],
    capacityMemory: values["capacity-memory"],
    maxPods: Number(values["max-pods"]),
    runtimeVersion: await runtime.version(),
    statusIntervalMs: parseDuration(values["node-status-update-frequency"] ?? "10s"),
  });
  await Promise.all([node.run(signal), kubelet.run(signal)]);
  await server.close();
  await client.close();
  log.info("kubelet stopped");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
