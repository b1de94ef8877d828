// imagePullSecrets reach the registry (issue 10: `kubectl create secret docker-registry` makes an
// object the kubelet uses): a real kubelet, as system:node:node-1 under the Node authorizer, pulls
// a pod's image through the real Docker engine from a registry on 127.0.0.1 (Docker's default
// insecure range) that asks for Basic credentials; the pull carries the ones of the pod's
// kubectl-made docker-registry Secret. The registry serves no image, so the pod ends in
// ErrImagePull/ImagePullBackOff with the registry's "manifest unknown"; without the Secret the
// registry never sees credentials.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { EVENTS, PODS } from "#pkg/api/resources.js";
import type { Event, Pod } from "#pkg/api/types/index.js";
import { NODES_GROUP, nodeUser } from "#pkg/pki/cluster.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { ensureLocalImages } from "../harness/images.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { cleanupCluster, docker, startKubelet, type TestKubelet } from "../harness/kubelet.js";
import { freePort } from "../harness/ports.js";
import { waitFor } from "../harness/wait.js";

const USER = "robot";
const PASSWORD = "s3cret-pull";
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")}`;

describe("imagePullSecrets: the kubelet pulls with the pod's registry credentials (real Docker)", () => {
  const cluster = `kl-pull-${randomUUID().slice(0, 8)}`;
  let api: TestApiServer;
  let kubelet: TestKubelet;
  let kubectl: Kubectl;
  let registry: Server;
  let port: number;
  /** Authorization headers the registry received, by path. */
  const seen: { path: string; authorization: string }[] = [];

  before(async () => {
    await docker.ping();
    ensureLocalImages();
    port = await freePort();
    // Just enough of the registry API for Docker to authenticate and then fail on the manifest.
    registry = createServer((req, res) => {
      const authorization = req.headers.authorization ?? "";
      seen.push({ path: req.url ?? "", authorization });
      res.setHeader("docker-distribution-api-version", "registry/2.0");
      res.setHeader("content-type", "application/json");
      if (authorization !== BASIC) {
        res.setHeader("www-authenticate", 'Basic realm="kubeling-test"');
        res
          .writeHead(401)
          .end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
        return;
      }
      if (req.url === "/v2/" || req.url === "/v2") {
        res.writeHead(200).end("{}");
        return;
      }
      res.writeHead(404).end(JSON.stringify({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }));
    });
    await new Promise<void>((resolve) => registry.listen(port, "127.0.0.1", resolve));
    api = await startApiServer();
    kubectl = kubectlFor(api.kubeconfigPath);
    kubelet = await startKubelet({
      kubeconfigPath: await api.kubeconfigFor({ name: nodeUser("node-1"), groups: [NODES_GROUP] }),
      pki: api.pki,
      nodeName: "node-1",
      clusterName: cluster,
    });
  });

  after(async () => {
    kubectl?.close();
    await kubelet?.stop();
    await cleanupCluster(cluster);
    await api?.stop();
    await new Promise<void>((resolve) => (registry ? registry.close(() => resolve()) : resolve()));
  });

  const pod = (name: string, secret?: string): Pod => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: {
      nodeName: "node-1",
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "app", image: `127.0.0.1:${port}/team/${name}:1`, imagePullPolicy: "Always" }],
      ...(secret ? { imagePullSecrets: [{ name: secret }] } : {}),
    },
  });

  test("kubectl create secret docker-registry: the pull authenticates with it", async () => {
    await kubectl.ok([
      "create",
      "secret",
      "docker-registry",
      "regcred",
      `--docker-server=127.0.0.1:${port}`,
      `--docker-username=${USER}`,
      `--docker-password=${PASSWORD}`,
    ]);
    await api.client.create(PODS, "default", pod("private", "regcred"));
    await waitFor(
      () => seen.some((s) => s.path.startsWith("/v2/team/private/manifests/") && s.authorization === BASIC),
      {
        timeoutMs: 60_000,
        intervalMs: 200,
        message: `the registry sees the Secret's credentials on the manifest (saw ${JSON.stringify(seen.slice(-5))})\n${kubelet.output()}`,
      },
    );
    const failed = await waitFor(
      async () => {
        const events = await api.client.list<Event>(EVENTS, "default", {
          fieldSelector: "involvedObject.name=private,reason=Failed",
        });
        return events.items.find((e) => e.message?.includes("Failed to pull image"));
      },
      { timeoutMs: 30_000, intervalMs: 200, message: "a Failed pull event" },
    );
    assert.match(failed.message ?? "", /manifest unknown/);
  });

  test("a pod without imagePullSecrets sends no credentials", async () => {
    const before = seen.length;
    await api.client.create(PODS, "default", pod("public"));
    await waitFor(() => seen.slice(before).some((s) => s.path.startsWith("/v2/")), {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: "the registry is asked",
    });
    await waitFor(
      async () => {
        const p = await api.client.get<Pod>(PODS, "default", "public");
        const reason = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
        return reason === "ErrImagePull" || reason === "ImagePullBackOff";
      },
      { timeoutMs: 30_000, intervalMs: 200, message: "public waits on its image" },
    );
    assert.ok(
      seen.slice(before).every((s) => s.authorization === ""),
      JSON.stringify(seen.slice(before)),
    );
  });
});
