// A cluster authorized as upstream's default, --authorization-mode=Node,RBAC, on real Docker:
// the scheduler, the kubelets and the controller-manager each run as their own identity
// (system:kube-scheduler, system:node:<name> in system:nodes, system:kube-controller-manager)
// with only what the bootstrap policy grants them, and a Deployment whose pods mount a
// ConfigMap and a Secret still rolls out. The Node authorizer lets a kubelet read the Secrets of
// pods bound to it only.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CONFIGMAPS, DEPLOYMENTS, PODS, SECRETS } from "#pkg/api/resources.js";
import type { Deployment, Pod } from "#pkg/api/types/index.js";
import { CONTROLLER_MANAGER_USER, NODES_GROUP, nodeUser } from "#pkg/pki/cluster.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { BUSYBOX_IMAGE } from "../harness/images.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { deployment, pod } from "../harness/objects.js";
import { waitFor } from "../harness/wait.js";

const NS = "default";

describe("a Node,RBAC cluster", () => {
  let c: TestCluster;
  let cm: TestControllerManager;
  const kubelet: Record<string, Kubectl> = {};

  before(async () => {
    c = await startCluster({ apiserver: { extraArgs: ["--authorization-mode=Node,RBAC"] } });
    cm = await startControllerManager({
      kubeconfigPath: await c.api.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
      extraArgs: ["--leader-elect=false"],
    });
    for (const n of ["node-1", "node-2"]) {
      kubelet[n] = kubectlFor(await c.api.kubeconfigFor({ name: nodeUser(n), groups: [NODES_GROUP] }));
    }
  });

  after(async () => {
    for (const k of Object.values(kubelet)) k.close();
    await cm?.stop();
    await c?.stop();
  });

  test("a Deployment with a ConfigMap and a Secret rolls out, every component under its own identity", async () => {
    await c.client.create(CONFIGMAPS, NS, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "web-config" },
      data: { a: "1" },
    });
    await c.client.create(SECRETS, NS, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "web-secret" },
      data: { b: Buffer.from("2").toString("base64") },
    });
    const d = deployment("web", 2, {
      image: BUSYBOX_IMAGE,
      imagePullPolicy: "IfNotPresent",
      terminationGracePeriodSeconds: 1,
    });
    const spec = d.spec?.template.spec;
    assert.ok(spec);
    spec.volumes = [
      { name: "cfg", configMap: { name: "web-config" } },
      { name: "sec", secret: { secretName: "web-secret" } },
    ];
    const container = spec.containers[0];
    assert.ok(container);
    container.volumeMounts = [
      { name: "cfg", mountPath: "/cfg" },
      { name: "sec", mountPath: "/sec" },
    ];
    await c.client.create(DEPLOYMENTS, NS, d);
    await waitFor(
      async () => (await c.client.get<Deployment>(DEPLOYMENTS, NS, "web")).status?.availableReplicas === 2,
      { timeoutMs: 150_000, intervalMs: 500, message: `deployment web available\n${cm.proc.output()}` },
    );
  });

  test("a kubelet reads the Secrets of its own pods only", async () => {
    for (const name of ["only-1", "only-2"]) {
      await c.client.create(SECRETS, NS, { apiVersion: "v1", kind: "Secret", metadata: { name }, data: {} });
    }
    for (const [p, node, secret] of [
      ["uses-1", "node-1", "only-1"],
      ["uses-2", "node-2", "only-2"],
    ] as const) {
      const obj: Pod = pod(p, {
        nodeName: node,
        image: BUSYBOX_IMAGE,
        imagePullPolicy: "IfNotPresent",
        terminationGracePeriodSeconds: 1,
      });
      obj.spec = {
        ...obj.spec,
        containers: obj.spec?.containers ?? [],
        volumes: [{ name: "s", secret: { secretName: secret } }],
      };
      await c.client.create(PODS, NS, obj);
    }
    const k1 = kubelet["node-1"] as Kubectl;
    await waitFor(async () => (await k1.run(["get", "secret", "only-1", "-o", "name"])).code === 0, {
      timeoutMs: 10_000,
      message: "node-1 reads the secret of its pod",
    });
    const denied = await k1.run(["get", "secret", "only-2"]);
    assert.equal(denied.code, 1);
    assert.equal(
      denied.stderr.trim(),
      'Error from server (Forbidden): secrets "only-2" is forbidden: User "system:node:node-1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node "node-1" and this object',
    );
    assert.equal((await (kubelet["node-2"] as Kubectl).run(["get", "secret", "only-2", "-o", "name"])).code, 0);
    const list = await k1.run(["get", "secrets"]);
    assert.match(list.stderr, /secrets is forbidden: User "system:node:node-1" cannot list resource "secrets"/);
    const lease = await k1.run(["get", "lease", "node-2", "-n", "kube-node-lease"]);
    assert.match(lease.stderr, /can only access node lease with the same name as the requesting node/);
  });
});
