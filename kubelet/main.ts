// kubeling-kubelet: registers a Node, runs the pods bound to it as Docker containers, and serves
// logs/exec/port-forward for the API server's proxy, over HTTPS to authenticated and authorized
// callers only (kubelet/server.ts, kubelet/auth.ts). In the shape of every component's main.ts
// (pkg/runtime/flags.ts): flags → logger → client → informers → run until the shutdown signal →
// drain.

import { join, resolve } from "node:path";
import { ANN_KUBELET_ROOT_DIR } from "#pkg/api/node-annotations.js";
import { PODS, SERVICES } from "#pkg/api/resources.js";
import { InformerFactory } from "#pkg/cache/factory.js";
import { ApiClient } from "#pkg/client/client.js";
import { EventRecorder } from "#pkg/controller/events.js";
import { runMain } from "#pkg/runtime/flags.js";
import { HealthServer } from "#pkg/runtime/health-server.js";
import { createLogger } from "#pkg/runtime/log.js";
import { newRegistry } from "#pkg/runtime/metrics.js";
import { shutdownSignal } from "#pkg/runtime/signals.js";
import { DelegatingAuthenticator, TokenReviewAuthenticator } from "#pkg/server/authentication.js";
import { SubjectAccessReviewAuthorizer } from "#pkg/server/authorization.js";
import { loadServingCert } from "#pkg/server/serving.js";
import { X509Authenticator } from "#pkg/server/x509.js";
import { parseFlags } from "./flags.js";
import { Kubelet } from "./kubelet.js";
import { defaultNodeIP, NodeManager, parseNodeLabels, parseTaints } from "./node.js";
import { DockerRuntime } from "./runtime/docker.js";
import { ALWAYS_ALLOW, KubeletServer } from "./server.js";

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
  const rootDir = f.rootDir ?? `/var/lib/kubeling/kubelet/${nodeName}`;

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
    rootDir,
    dns: { clusterDNS: f.clusterDns, clusterDomain: f.clusterDomain },
    registry: metrics,
  });
  // The pod informer synced: the kubelet knows what it should run.
  const readyz = { pods: () => kubelet.pods.hasSynced() || "not synced" };
  // The kubelet's port: HTTPS, every request authenticated and authorized (kubelet/auth.ts).
  const cert = await loadServingCert({
    certFile: f.tlsCertFile,
    keyFile: f.tlsPrivateKeyFile,
    certDir: f.certDir ?? join(rootDir, "pki"),
    pairName: "kubelet",
    commonName: `${nodeName}@${Math.floor(Date.now() / 1000)}`,
    sans: [nodeName, nodeIP, "localhost", "127.0.0.1", f.address],
    log,
  });
  const x509 = f.clientCaFile ? X509Authenticator.fromFile(f.clientCaFile) : undefined;
  const tokens = f.authenticationTokenWebhook
    ? new TokenReviewAuthenticator(client, { ttlMs: f.authenticationTokenWebhookCacheTtl })
    : undefined;
  const authorizer =
    f.authorizationMode === "AlwaysAllow"
      ? ALWAYS_ALLOW
      : new SubjectAccessReviewAuthorizer(client, {
          authorizedTtlMs: f.authorizationWebhookCacheAuthorizedTtl,
          unauthorizedTtlMs: f.authorizationWebhookCacheUnauthorizedTtl,
        });
  const server = new KubeletServer({
    kubelet,
    runtime,
    log,
    nodeName,
    tls: { cert, clientCA: x509?.caPem },
    authenticator: new DelegatingAuthenticator([x509, tokens], { anonymous: f.anonymousAuth }),
    authorizer,
    health: { registry: metrics, readyz },
  });
  const port = await server.listen(f.port, f.address);
  log.info(
    {
      port,
      address: f.address,
      nodeIP,
      clusterName: f.clusterName,
      clientCAFile: f.clientCaFile,
      anonymousAuth: f.anonymousAuth,
      tokenWebhook: f.authenticationTokenWebhook,
      authorizationMode: f.authorizationMode,
    },
    "kubelet server listening (HTTPS)",
  );
  // Upstream's healthz endpoint, plain HTTP without credentials, loopback by default; 0 disables it.
  // Not /metrics: those need credentials on --port.
  const healthz = f.healthzPort > 0 ? new HealthServer({ readyz }) : undefined;
  if (healthz) {
    const p = await healthz.listen(f.healthzPort, f.healthzBindAddress);
    log.info({ port: p, address: f.healthzBindAddress }, "serving /healthz /livez /readyz");
  }

  const node = new NodeManager({
    client,
    log,
    nodeName,
    nodeIP,
    port,
    labels: parseNodeLabels(f.nodeLabels),
    // Where this node keeps pod and local-path volumes (the local-path provisioner reads it).
    annotations: { [ANN_KUBELET_ROOT_DIR]: resolve(rootDir) },
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
