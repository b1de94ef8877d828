// kubeling-kubelet: registers a Node, runs the pods bound to it as Docker containers, and serves
// logs/exec/port-forward for the API server's proxy. In the shape of every component's main.ts
// (pkg/runtime/flags.ts): flags → logger → client → informers → run until the shutdown signal →
// drain.

import { PODS, SERVICES } from "#pkg/api/resources.js";
import { InformerFactory } from "#pkg/cache/factory.js";
import { ApiClient } from "#pkg/client/client.js";
import { EventRecorder } from "#pkg/controller/events.js";
import { runMain } from "#pkg/runtime/flags.js";
import { HealthServer } from "#pkg/runtime/health-server.js";
import { createLogger } from "#pkg/runtime/log.js";
import { newRegistry } from "#pkg/runtime/metrics.js";
import { shutdownSignal } from "#pkg/runtime/signals.js";
import { parseFlags } from "./flags.js";
import { Kubelet } from "./kubelet.js";
import { defaultNodeIP, NodeManager, parseNodeLabels, parseTaints } from "./node.js";
import { DockerRuntime } from "./runtime/docker.js";
import { KubeletServer } from "./server.js";

async function main(): Promise<void> {
  // 1. Flags.
  const f = parseFlags(process.argv);
  const nodeName = f.hostnameOverride;
  // 2. Logger and the shutdown signal.
  const log = createLogger("kubelet", f.logLevel).child({ node: nodeName });
  const signal = shutdownSignal({ log });
  // 3. Client, runtime, metrics.
  const client = ApiClient.fromKubeconfig({ ...(f.kubeconfig ? { path: f.kubeconfig } : {}) });
  const runtime = new DockerRuntime({ clusterName: f.clusterName, nodeName, log });
  const nodeIP = f.nodeIp ?? defaultNodeIP();
  const metrics = newRegistry();

  // 4. Informers, one factory for the process: the pods bound to this node, every Service.
  // (ConfigMaps and Secrets are watched one by one, as pods reference them: kubelet/watch-manager.ts.)
  const informers = new InformerFactory(client, { log: log.child({ module: "informers" }) });
  const kubelet = new Kubelet({
    client,
    informers,
    pods: informers.informer(PODS, { fieldSelector: `spec.nodeName=${nodeName}` }),
    services: informers.informer(SERVICES),
    events: new EventRecorder(client, { component: "kubelet", host: nodeName, log }),
    runtime,
    log,
    nodeName,
    nodeIP,
    podInfraImage: f.podInfraContainerImage,
    crashLoopBackoffBaseMs: f.crashloopBackoffBase,
    crashLoopBackoffMaxMs: f.backoffMax,
    imagePullBackoffBaseMs: f.imagePullBackoffBase,
    imagePullBackoffMaxMs: f.backoffMax,
    rootDir: f.rootDir ?? `/var/lib/kubeling/kubelet/${nodeName}`,
    dns: { clusterDNS: f.clusterDns, clusterDomain: f.clusterDomain },
    registry: metrics,
  });
  // The pod informer synced: the kubelet knows what it should run.
  const health = { registry: metrics, readyz: { pods: () => kubelet.pods.hasSynced() || "not synced" } };
  const server = new KubeletServer({ kubelet, runtime, log, health });
  const port = await server.listen(f.port, f.address);
  log.info({ port, address: f.address, nodeIP, clusterName: f.clusterName }, "kubelet server listening (plain HTTP)");
  // Upstream's healthz endpoint, loopback only by default; 0 disables it.
  const healthz = f.healthzPort > 0 ? new HealthServer(health) : undefined;
  if (healthz) {
    const p = await healthz.listen(f.healthzPort, f.healthzBindAddress);
    log.info({ port: p, address: f.healthzBindAddress }, "serving /healthz /livez /readyz /metrics");
  }

  const node = new NodeManager({
    client,
    log,
    nodeName,
    nodeIP,
    port,
    labels: parseNodeLabels(f.nodeLabels),
    taints: parseTaints(f.registerWithTaints),
    capacityCpu: f.capacityCpu,
    capacityMemory: f.capacityMemory,
    maxPods: f.maxPods,
    runtimeVersion: await runtime.version(),
    statusIntervalMs: f.nodeStatusUpdateFrequency,
    leaseDurationSeconds: f.nodeLeaseDurationSeconds,
    renewIntervalMs: f.nodeLeaseDurationSeconds * 250,
  });
  // 5. Run until the shutdown signal.
  await Promise.all([node.run(signal), kubelet.run(signal)]);
  // 6. Drain. The pods' containers keep running, as upstream's do.
  await healthz?.close();
  await server.close();
  await client.close();
  log.info("kubelet stopped");
}

runMain(main);
