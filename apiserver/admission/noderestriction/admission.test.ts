import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isNotFound, notFound, type StatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { LEASES, NODES, PODS, SERVICEACCOUNTS } from "#pkg/api/resources.js";
import type { Node, Pod } from "#pkg/api/types/index.js";
import type { UserInfo } from "../../auth/user.js";
import type { Store } from "../../registry/store.js";
import type { Operation } from "../attributes.js";
import { attrs, fakeContext } from "../testing.js";
import { forbiddenLabels, isKubeletLabel, MIRROR_POD_ANNOTATION, newNodeRestriction } from "./admission.js";

const node1: UserInfo = { name: "system:node:node-1", uid: "", groups: ["system:nodes", "system:authenticated"] };
const alice: UserInfo = { name: "alice", uid: "", groups: ["system:authenticated"] };

function pod(name: string, nodeName: string, extra: Partial<Pod> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "ns", uid: `uid-${name}`, labels: { app: "a" } },
    spec: { nodeName, containers: [{ name: "c", image: "i" }] },
    ...extra,
  };
}

const NODE_1: Node = { apiVersion: "v1", kind: "Node", metadata: { name: "node-1", uid: "node-1-uid" } };

/** A fake store answering get from a fixed set of objects (NotFound otherwise). */
function storeOf(r: { group: string; resource: string }, objs: KubeObject[]): Store {
  return {
    get: async (_ns: string | undefined, name: string) => {
      const o = objs.find((x) => x.metadata.name === name);
      if (!o) throw notFound(r, name);
      return structuredClone(o);
    },
  } as unknown as Store;
}

const pods = [pod("mine", "node-1"), pod("theirs", "node-2")];
const plugin = newNodeRestriction(
  fakeContext({ stores: { "/pods": storeOf(PODS, pods), "/nodes": storeOf(NODES, [NODE_1]) } }),
);

type AttrOpts = Parameters<typeof attrs>[2];
const run = (r: Parameters<typeof attrs>[0], op: Operation, o: AttrOpts = {}) =>
  plugin.admit?.(attrs(r, op, { userInfo: node1, ...o }).a);

async function refused(p: Promise<void> | undefined, message: string): Promise<void> {
  await assert.rejects(p as Promise<void>, (err: StatusError) => {
    assert.equal(err.code, 403);
    assert.equal(err.message, message);
    return true;
  });
}

const EVICTION_KIND = { group: "policy", version: "v1", kind: "Eviction" };

describe("NodeRestriction", () => {
  test("only nodes are restricted; a node user without a name is refused", async () => {
    await run(PODS, "DELETE", { namespace: "ns", name: "theirs", userInfo: alice });
    await run(NODES, "UPDATE", { name: "node-2", object: NODE_1, oldObject: NODE_1, userInfo: alice });
    // A system:node: user outside system:nodes is no node.
    const notInGroup = { ...node1, groups: ["system:authenticated"] };
    await run(PODS, "DELETE", { namespace: "ns", name: "theirs", userInfo: notInGroup });
    await refused(
      run(PODS, "DELETE", { namespace: "ns", name: "theirs", userInfo: { ...node1, name: "system:node:" } }),
      'pods "theirs" is forbidden: could not determine node from user "system:node:"',
    );
    assert.ok(plugin.handles("CREATE") && plugin.handles("UPDATE") && plugin.handles("DELETE"));
    assert.ok(!plugin.handles("CONNECT"));
  });

  test("pods: a node deletes only pods bound to it; it updates none", async () => {
    await run(PODS, "DELETE", { namespace: "ns", name: "mine" });
    await refused(
      run(PODS, "DELETE", { namespace: "ns", name: "theirs" }),
      'pods "theirs" is forbidden: node "node-1" can only delete pods with spec.nodeName set to itself',
    );
    await assert.rejects(run(PODS, "DELETE", { namespace: "ns", name: "gone" }) as Promise<void>, isNotFound);
    await refused(
      run(PODS, "UPDATE", { namespace: "ns", object: pods[0], oldObject: pods[0] }),
      'pods "mine" is forbidden: unexpected operation "UPDATE", node "node-1" can only create and delete mirror pods',
    );
  });

  test("pods: a node creates only mirror pods of its own, referencing nothing", async () => {
    await refused(
      run(PODS, "CREATE", { namespace: "ns", object: pod("p", "node-1") }),
      `pods "p" is forbidden: pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node "node-1" can only create mirror pods`,
    );
    const mirror = (o: { nodeName?: string; owner?: Record<string, unknown> | null; spec?: Partial<Pod["spec"]> }) => {
      const p = pod("p", o.nodeName ?? "node-1");
      p.metadata.annotations = { [MIRROR_POD_ANNOTATION]: "hash" };
      const owner = {
        apiVersion: "v1",
        kind: "Node",
        name: "node-1",
        uid: "node-1-uid",
        controller: true,
        ...(o.owner ?? {}),
      };
      if (o.owner !== null) p.metadata.ownerReferences = [owner as never];
      p.spec = { ...(p.spec as NonNullable<Pod["spec"]>), ...(o.spec ?? {}) };
      return p;
    };
    await run(PODS, "CREATE", { namespace: "ns", object: mirror({}) });
    const cases: Array<[Pod, string]> = [
      [mirror({ nodeName: "node-2" }), 'node "node-1" can only create pods with spec.nodeName set to itself'],
      [mirror({ owner: null }), 'node "node-1" can only create pods with an owner reference set to itself'],
      [
        mirror({ owner: { name: "node-2" } }),
        'node "node-1" can only create pods with an owner reference set to itself',
      ],
      [
        mirror({ owner: { controller: false } }),
        'node "node-1" can only create pods with a controller owner reference set to itself',
      ],
      [
        mirror({ owner: { blockOwnerDeletion: true } }),
        'node "node-1" must not set blockOwnerDeletion on an owner reference',
      ],
      [mirror({ owner: { uid: "other" } }), "node node-1 UID mismatch: expected other got node-1-uid"],
      [
        mirror({ spec: { serviceAccountName: "default" } }),
        'node "node-1" can not create pods that reference a service account',
      ],
      [
        mirror({ spec: { volumes: [{ name: "v", secret: { secretName: "s" } }] } }),
        'node "node-1" can not create pods that reference secrets',
      ],
      [
        mirror({ spec: { volumes: [{ name: "v", configMap: { name: "c" } }] } }),
        'node "node-1" can not create pods that reference configmaps',
      ],
      [
        mirror({ spec: { volumes: [{ name: "v", persistentVolumeClaim: { claimName: "c" } }] } }),
        'node "node-1" can not create pods that reference persistentvolumeclaims',
      ],
    ];
    for (const [p, why] of cases)
      await refused(run(PODS, "CREATE", { namespace: "ns", object: p }), `pods "p" is forbidden: ${why}`);
    const two = mirror({});
    two.metadata.ownerReferences = [...(two.metadata.ownerReferences ?? []), ...(two.metadata.ownerReferences ?? [])];
    await refused(
      run(PODS, "CREATE", { namespace: "ns", object: two }),
      'pods "p" is forbidden: node "node-1" can only create pods with a single owner reference set to itself',
    );
  });

  test("pods/status: only of pods bound to the node, labels unchanged", async () => {
    const mine = pods[0] as Pod;
    await run(PODS, "UPDATE", { namespace: "ns", subresource: "status", object: mine, oldObject: mine });
    const theirs = pods[1] as Pod;
    await refused(
      run(PODS, "UPDATE", { namespace: "ns", subresource: "status", object: theirs, oldObject: theirs }),
      'pods "theirs" is forbidden: node "node-1" can only update pod status for pods with spec.nodeName set to itself',
    );
    const relabelled = structuredClone(mine);
    relabelled.metadata.labels = { app: "b" };
    await refused(
      run(PODS, "UPDATE", { namespace: "ns", subresource: "status", object: relabelled, oldObject: mine }),
      'pods "mine" is forbidden: node "node-1" cannot update labels through pod status',
    );
    const claimed = structuredClone(mine);
    claimed.status = { resourceClaimStatuses: [{ name: "x", resourceClaimName: "y" }] };
    await refused(
      run(PODS, "UPDATE", { namespace: "ns", subresource: "status", object: claimed, oldObject: mine }),
      'pods "mine" is forbidden: node "node-1" cannot update resource claim statues',
    );
  });

  test("pods/eviction: only of pods bound to the node; pods/binding never", async () => {
    const eviction = (name: string) => ({
      apiVersion: "policy/v1",
      kind: "Eviction",
      metadata: { name, namespace: "ns" },
    });
    await run(PODS, "CREATE", {
      namespace: "ns",
      name: "mine",
      subresource: "eviction",
      kind: EVICTION_KIND,
      object: eviction("mine"),
    });
    await refused(
      run(PODS, "CREATE", {
        namespace: "ns",
        name: "theirs",
        subresource: "eviction",
        kind: EVICTION_KIND,
        object: eviction("theirs"),
      }),
      'pods "theirs" is forbidden: node node-1 can only evict pods with spec.nodeName set to itself',
    );
    const binding = { apiVersion: "v1", kind: "Binding", metadata: { name: "mine" }, target: { name: "node-1" } };
    await refused(
      run(PODS, "CREATE", { namespace: "ns", name: "mine", subresource: "binding", object: binding as KubeObject }),
      `pods "mine" is forbidden: unexpected pod subresource "binding", only 'status' and 'eviction' are allowed`,
    );
  });

  test("nodes: only its own, taints untouched, kubelet labels only", async () => {
    const n = (labels: Record<string, string>, taints?: NonNullable<Node["spec"]>["taints"]): Node => ({
      ...NODE_1,
      metadata: { ...NODE_1.metadata, labels },
      spec: taints ? { taints } : {},
    });
    const base = n({ "kubernetes.io/hostname": "node-1", "kubernetes.io/os": "linux" });
    await run(NODES, "CREATE", { object: base });
    await run(NODES, "UPDATE", { name: "node-1", subresource: "status", object: base, oldObject: base });
    await refused(
      run(NODES, "UPDATE", { name: "node-2", object: base, oldObject: base }),
      'nodes "node-2" is forbidden: node "node-1" is not allowed to modify node "node-2"',
    );
    await refused(
      run(NODES, "CREATE", { object: { ...base, metadata: { ...base.metadata, name: "node-2" } } }),
      'nodes "node-2" is forbidden: node "node-1" is not allowed to modify node "node-2"',
    );
    await refused(
      run(NODES, "UPDATE", {
        name: "node-1",
        object: n({}, [{ key: "k", effect: "NoSchedule" }]),
        oldObject: n({}),
      }),
      'nodes "node-1" is forbidden: node "node-1" is not allowed to modify taints',
    );
    // An absent list and an empty one are the same taints.
    await run(NODES, "UPDATE", { name: "node-1", object: n({}, []), oldObject: n({}) });
    await refused(
      run(NODES, "CREATE", {
        object: n({ "node-role.kubernetes.io/master": "", "node-restriction.kubernetes.io/x": "y", mine: "ok" }),
      }),
      'nodes "node-1" is forbidden: node "node-1" is not allowed to set the following labels: node-restriction.kubernetes.io/x, node-role.kubernetes.io/master',
    );
    await refused(
      run(NODES, "UPDATE", { name: "node-1", object: n({ "example.k8s.io/a": "1" }), oldObject: n({}) }),
      'nodes "node-1" is forbidden: is not allowed to modify labels: example.k8s.io/a',
    );
    await run(NODES, "UPDATE", {
      name: "node-1",
      object: n({ "node.kubernetes.io/instance-type": "big", "x.kubelet.kubernetes.io/y": "1", "example.com/z": "1" }),
      oldObject: n({}),
    });
    await refused(
      run(NODES, "CREATE", { object: { ...base, spec: { configSource: { configMap: {} } } } }),
      'nodes "node-1" is forbidden: node "node-1" is not allowed to create pods with a non-nil configSource',
    );
  });

  test("kubelet labels as upstream's IsKubeletLabel", () => {
    assert.ok(isKubeletLabel("kubernetes.io/hostname"));
    assert.ok(isKubeletLabel("node.kubernetes.io/anything"));
    assert.ok(isKubeletLabel("a.kubelet.kubernetes.io/b"));
    assert.ok(!isKubeletLabel("node-role.kubernetes.io/worker"));
    assert.deepEqual(forbiddenLabels(["example.com/a", "k8s.io/b", "foo.node-restriction.kubernetes.io/c"]), [
      "foo.node-restriction.kubernetes.io/c",
      "k8s.io/b",
    ]);
  });

  test("leases: its own, in kube-node-lease", async () => {
    const lease = (name: string, namespace = "kube-node-lease") => ({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name, namespace },
    });
    await run(LEASES, "CREATE", { namespace: "kube-node-lease", object: lease("node-1") });
    await run(LEASES, "UPDATE", {
      namespace: "kube-node-lease",
      name: "node-1",
      object: lease("node-1"),
      oldObject: lease("node-1"),
    });
    await refused(
      run(LEASES, "CREATE", { namespace: "kube-node-lease", object: lease("node-2") }),
      'leases.coordination.k8s.io "node-2" is forbidden: can only access node lease with the same name as the requesting node',
    );
    await refused(
      run(LEASES, "DELETE", { namespace: "kube-node-lease", name: "node-2" }),
      'leases.coordination.k8s.io "node-2" is forbidden: can only access node lease with the same name as the requesting node',
    );
    await refused(
      run(LEASES, "CREATE", { namespace: "default", object: lease("node-1", "default") }),
      'leases.coordination.k8s.io "node-1" is forbidden: can only access leases in the "kube-node-lease" system namespace',
    );
  });

  test("serviceaccounts/token: bound to a pod on this node, uid matching", async () => {
    const tr = (ref?: Record<string, string>): KubeObject =>
      ({
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        metadata: {},
        spec: { audiences: ["x"], ...(ref ? { boundObjectRef: ref } : {}) },
      }) as KubeObject;
    const token = (object: KubeObject) =>
      run(SERVICEACCOUNTS, "CREATE", {
        namespace: "ns",
        name: "default",
        subresource: "token",
        kind: { group: "authentication.k8s.io", version: "v1", kind: "TokenRequest" },
        object,
      });
    const ref = (name: string, uid = `uid-${name}`) => ({ apiVersion: "v1", kind: "Pod", name, uid });
    await token(tr(ref("mine")));
    const forbidden = (why: string) => `serviceaccounts "default" is forbidden: ${why}`;
    await refused(token(tr()), forbidden("node requested token not bound to a pod"));
    await refused(
      token(tr({ apiVersion: "v1", kind: "Secret", name: "s" })),
      forbidden("node requested token not bound to a pod"),
    );
    await refused(
      token(tr({ apiVersion: "v1", kind: "Pod", name: "mine" })),
      forbidden("node requested token with a pod binding without a uid"),
    );
    await refused(
      token(tr(ref("mine", "stale"))),
      forbidden(
        "the UID in the bound object reference (stale) does not match the UID in record. The object might have been deleted and then recreated",
      ),
    );
    await refused(
      token(tr(ref("theirs"))),
      forbidden("node requested token bound to a pod scheduled on a different node"),
    );
    await assert.rejects(token(tr(ref("gone"))) as Promise<void>, isNotFound);
    // Other writes of ServiceAccounts pass (the Node authorizer has refused them already).
    await run(SERVICEACCOUNTS, "CREATE", {
      namespace: "ns",
      object: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "sa" } },
    });
  });
});
