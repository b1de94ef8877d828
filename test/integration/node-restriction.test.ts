// The Node authorizer and NodeRestriction admission together, against a real API server in the
// default authorization mode (Node,RBAC) with the real kubectl holding a kubelet's client
// certificate (system:node:node-1 in system:nodes): a kubelet writes its own Node, Lease and pods'
// status, and cannot modify another node, change its own taints or restricted labels, read a
// Secret of a pod on another node, update the status of, delete or evict a pod on another node,
// create pods, or take another node's Lease; and, as AuthorizeNodeWithSelectors (on by default
// since 1.32) has it, reads only its own Node and lists/watches pods only with
// fieldSelector spec.nodeName=<itself>. Also: pods/binding and pods/eviction pass admission
// (NamespaceLifecycle refuses both in a terminating namespace, as upstream).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isStatusError, type StatusError } from "#pkg/api/errors.js";
import { LEASES, NAMESPACES, NODES, PODS, SECRETS } from "#pkg/api/resources.js";
import type { Namespace, Node, Pod } from "#pkg/api/types/index.js";
import { ApiClient } from "#pkg/client/client.js";
import { loadKubeconfig } from "#pkg/client/kubeconfig.js";
import { NODES_GROUP, nodeUser } from "#pkg/pki/cluster.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { pod } from "../harness/objects.js";
import { waitFor } from "../harness/wait.js";

const NS = "default";
let srv: TestApiServer;
let k1: Kubectl;
/** An ApiClient holding node-1's certificate, for what kubectl has no verb for (evictions, leases). */
let c1: ApiClient;

function podOn(name: string, nodeName: string, secret?: string): Pod {
  const p = pod(name, { nodeName, terminationGracePeriodSeconds: 0 });
  if (secret)
    p.spec = { ...(p.spec as NonNullable<Pod["spec"]>), volumes: [{ name: "s", secret: { secretName: secret } }] };
  return p;
}

async function forbidden(p: Promise<unknown>, message: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isStatusError(err), String(err));
    assert.equal((err as StatusError).code, 403);
    assert.equal((err as StatusError).message, message);
    return true;
  });
}

before(async () => {
  srv = await startApiServer({ extraArgs: ["--authorization-mode=Node,RBAC"] });
  const kubeconfig = await srv.kubeconfigFor({ name: nodeUser("node-1"), groups: [NODES_GROUP] });
  k1 = kubectlFor(kubeconfig);
  c1 = new ApiClient(loadKubeconfig({ path: kubeconfig }), { userAgent: "node-restriction-test" });
  const node = (name: string): Node => ({
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name } },
  });
  // node-1 registers itself, as a kubelet does; node-2 is the admin's.
  await c1.create(NODES, undefined, node("node-1"));
  await srv.client.create(NODES, undefined, node("node-2"));
  for (const s of ["secret-1", "secret-2"]) {
    await srv.client.create(SECRETS, NS, { apiVersion: "v1", kind: "Secret", metadata: { name: s }, data: {} });
  }
  await srv.client.create(PODS, NS, podOn("on-1", "node-1", "secret-1"));
  await srv.client.create(PODS, NS, podOn("on-2", "node-2", "secret-2"));
  // The Node authorizer reads pods from the watch cache: wait until node-1's pod is related.
  await waitFor(async () => (await k1.run(["get", "secret", "secret-1", "-o", "name"])).code === 0, {
    timeoutMs: 10_000,
    message: "node-1 reads the Secret of its pod",
  });
});

after(async () => {
  k1?.close();
  await c1?.close();
  await srv?.stop();
});

describe("a kubelet's certificate", () => {
  test("cannot modify another node; its own node only within the kubelet's labels, never its taints", async () => {
    // kubectl label reads the node first, which is another node's (AuthorizeNodeWithSelectors);
    // a patch straight away reaches NodeRestriction.
    const other = await k1.run(["label", "node", "node-2", "a=b"]);
    assert.equal(other.code, 1);
    assert.equal(
      other.stderr.trim(),
      `Error from server (Forbidden): nodes "node-2" is forbidden: User "system:node:node-1" cannot get resource "nodes" in API group "" at the cluster scope: node 'node-1' cannot read 'node-2', only its own Node object`,
    );
    await forbidden(
      c1.patch(NODES, undefined, "node-2", { metadata: { labels: { a: "b" } } }, "merge"),
      'nodes "node-2" is forbidden: node "node-1" is not allowed to modify node "node-2"',
    );
    await k1.ok(["label", "node", "node-1", "example.com/rack=r1", "topology.kubernetes.io/zone=z1"]);
    const taint = await k1.run(["taint", "node", "node-1", "k=v:NoSchedule"]);
    assert.match(taint.stderr, /nodes "node-1" is forbidden: node "node-1" is not allowed to modify taints/);
    const role = await k1.run(["label", "node", "node-1", "node-role.kubernetes.io/control-plane="]);
    assert.match(
      role.stderr,
      /nodes "node-1" is forbidden: is not allowed to modify labels: node-role.kubernetes.io\/control-plane/,
    );
    // Deleting nodes is no kubelet's business at all (upstream's system:node rules).
    const del = await k1.run(["delete", "node", "node-2"]);
    assert.match(del.stderr, /User "system:node:node-1" cannot delete resource "nodes" in API group ""/);
    // Its status is its own to write (kubectl cannot: patch --subresource=status reads nodes/status
    // first, which the system:node rules do not allow, as upstream's).
    const status = {
      status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady", message: "ok" }] },
    };
    await c1.patch(NODES, undefined, "node-1", status, "merge", { subresource: "status" });
    await forbidden(
      c1.patch(NODES, undefined, "node-2", status, "merge", { subresource: "status" }),
      'nodes "node-2" is forbidden: node "node-1" is not allowed to modify node "node-2"',
    );
  });

  test("reads its own Node only, and lists or watches only the pods bound to it", async () => {
    assert.equal((await k1.ok(["get", "node", "node-1", "-o", "name"])).trim(), "node/node-1");
    const byName = await c1.list<Node>(NODES, undefined, { fieldSelector: "metadata.name=node-1" });
    assert.deepEqual(
      byName.items.map((n) => n.metadata.name),
      ["node-1"],
    );
    const all = await k1.run(["get", "nodes"]);
    assert.equal(all.code, 1);
    assert.equal(
      all.stderr.trim(),
      `Error from server (Forbidden): nodes is forbidden: User "system:node:node-1" cannot list resource "nodes" in API group "" at the cluster scope: node 'node-1' cannot read all nodes, only its own Node object`,
    );
    const other = await k1.run(["get", "node", "node-2"]);
    assert.equal(
      other.stderr.trim(),
      `Error from server (Forbidden): nodes "node-2" is forbidden: User "system:node:node-1" cannot get resource "nodes" in API group "" at the cluster scope: node 'node-1' cannot read 'node-2', only its own Node object`,
    );
    await forbidden(
      c1.list(NODES, undefined, { fieldSelector: "metadata.name=node-2" }),
      `nodes "node-2" is forbidden: User "system:node:node-1" cannot list resource "nodes" in API group "" at the cluster scope: node 'node-1' cannot read 'node-2', only its own Node object`,
    );

    const own = await k1.ok(["get", "pods", "-A", "--field-selector", "spec.nodeName=node-1", "-o", "name"]);
    assert.ok(own.split("\n").includes("pod/on-1"), own);
    assert.ok(!own.includes("on-2"), own);
    const podsDenied = "can only list/watch pods with spec.nodeName field selector";
    const allPods = await k1.run(["get", "pods", "-A"]);
    assert.equal(
      allPods.stderr.trim(),
      `Error from server (Forbidden): pods is forbidden: User "system:node:node-1" cannot list resource "pods" in API group "" at the cluster scope: ${podsDenied}`,
    );
    const nsPods = await k1.run(["get", "pods", "--field-selector", "spec.nodeName=node-2"]);
    assert.equal(
      nsPods.stderr.trim(),
      `Error from server (Forbidden): pods is forbidden: User "system:node:node-1" cannot list resource "pods" in API group "" in the namespace "default": ${podsDenied}`,
    );
    await forbidden(
      (async () => {
        for await (const _ of c1.watch(PODS, undefined, {})) break;
      })(),
      `pods is forbidden: User "system:node:node-1" cannot watch resource "pods" in API group "" at the cluster scope: ${podsDenied}`,
    );
    // A watch scoped to the node sees its pods, and only those.
    const seen: string[] = [];
    const deadline = AbortSignal.timeout(10_000);
    for await (const ev of c1.watch<Pod>(PODS, undefined, { fieldSelector: "spec.nodeName=node-1" }, deadline)) {
      seen.push(ev.object.metadata.name ?? "");
      if (seen.includes("on-1")) break;
    }
    assert.ok(seen.includes("on-1") && !seen.includes("on-2"), String(seen));
    // A single pod: only one bound to the node.
    assert.equal((await k1.ok(["get", "pod", "on-1", "-o", "name"])).trim(), "pod/on-1");
    const otherPod = await k1.run(["get", "pod", "on-2"]);
    assert.equal(
      otherPod.stderr.trim(),
      'Error from server (Forbidden): pods "on-2" is forbidden: User "system:node:node-1" cannot get resource "pods" in API group "" in the namespace "default": no relationship found between node "node-1" and this object',
    );
  });

  test("cannot read a Secret of a pod on another node (the Node authorizer's message)", async () => {
    const r = await k1.run(["get", "secret", "secret-2"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      'Error from server (Forbidden): secrets "secret-2" is forbidden: User "system:node:node-1" cannot get resource "secrets" in API group "" in the namespace "default": no relationship found between node "node-1" and this object',
    );
  });

  test("updates the status of its own pods only, without relabelling them", async () => {
    const patch = { status: { message: "seen by node-1" } };
    const patchStatus = (name: string, body: unknown) =>
      c1.patch(PODS, NS, name, body, "merge", { subresource: "status" });
    await patchStatus("on-1", patch);
    assert.equal((await srv.client.get<Pod>(PODS, NS, "on-1")).status?.message, "seen by node-1");
    await forbidden(
      patchStatus("on-2", patch),
      'pods "on-2" is forbidden: node "node-1" can only update pod status for pods with spec.nodeName set to itself',
    );
    await forbidden(
      patchStatus("on-1", { metadata: { labels: { x: "y" } } }),
      'pods "on-1" is forbidden: node "node-1" cannot update labels through pod status',
    );
    // The main endpoint is not a kubelet's to write at all (the system:node rules).
    const main = await k1.run(["label", "pod", "on-1", "x=y"]);
    assert.match(main.stderr, /User "system:node:node-1" cannot patch resource "pods" in API group ""/);
  });

  test("creates no pods but mirror pods; deletes and evicts only pods bound to it", async () => {
    const run = await k1.run(["run", "sneaky", "--image=busybox", "--overrides", '{"spec":{"nodeName":"node-1"}}']);
    assert.match(
      run.stderr,
      /pods "sneaky" is forbidden: pod does not have "kubernetes.io\/config.mirror" annotation, node "node-1" can only create mirror pods/,
    );
    const del = await k1.run(["delete", "pod", "on-2"]);
    assert.equal(
      del.stderr.trim(),
      'Error from server (Forbidden): pods "on-2" is forbidden: node "node-1" can only delete pods with spec.nodeName set to itself',
    );
    const eviction = (name: string) => ({
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name, namespace: NS },
    });
    await forbidden(
      c1.create(PODS, NS, eviction("on-2"), { name: "on-2", subresource: "eviction" }),
      'pods "on-2" is forbidden: node node-1 can only evict pods with spec.nodeName set to itself',
    );
    await srv.client.create(PODS, NS, podOn("evict-me", "node-1"));
    await c1.create(PODS, NS, eviction("evict-me"), { name: "evict-me", subresource: "eviction" });
    await srv.client.create(PODS, NS, podOn("delete-me", "node-1"));
    await k1.ok(["delete", "pod", "delete-me", "--wait=false"]);
    assert.ok((await srv.client.get<Pod>(PODS, NS, "on-2")).metadata.uid);
  });

  test("holds its own Lease in kube-node-lease only", async () => {
    const lease = (name: string) => ({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name },
      spec: { holderIdentity: name, leaseDurationSeconds: 40 },
    });
    await c1.create(LEASES, "kube-node-lease", lease("node-1"));
    await forbidden(
      c1.create(LEASES, "kube-node-lease", lease("node-2")),
      'leases.coordination.k8s.io "node-2" is forbidden: can only access node lease with the same name as the requesting node',
    );
  });
});

describe("admission of pods/binding and pods/eviction", () => {
  test("a terminating namespace refuses both (NamespaceLifecycle), as upstream", async () => {
    await srv.client.create(NAMESPACES, undefined, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "ending" },
    });
    await srv.client.create(PODS, "ending", pod("p", { namespace: "ending" }));
    // No namespace controller runs: the namespace stays Terminating.
    await srv.client.delete(NAMESPACES, undefined, "ending");
    await waitFor(
      async () => (await srv.client.get<Namespace>(NAMESPACES, undefined, "ending")).status?.phase === "Terminating",
      { timeoutMs: 10_000, message: "namespace ending Terminating" },
    );
    const why =
      'pods "p" is forbidden: unable to create new content in namespace ending because it is being terminated';
    await forbidden(
      srv.client.create(
        PODS,
        "ending",
        { apiVersion: "v1", kind: "Binding", metadata: { name: "p" }, target: { kind: "Node", name: "node-1" } },
        { name: "p", subresource: "binding" },
      ),
      why,
    );
    await forbidden(
      srv.client.create(
        PODS,
        "ending",
        { apiVersion: "policy/v1", kind: "Eviction", metadata: { name: "p", namespace: "ending" } },
        { name: "p", subresource: "eviction" },
      ),
      why,
    );
    assert.equal((await srv.client.get<Pod>(PODS, "ending", "p")).spec?.nodeName, undefined);
  });
});
