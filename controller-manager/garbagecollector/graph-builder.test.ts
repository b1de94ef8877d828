import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KubeObject, OwnerReference } from "#pkg/api/meta.js";
import { CONFIGMAPS, NAMESPACES, SECRETS } from "#pkg/api/resources.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { FakeInformer, FakeRecorder } from "#pkg/testing/index.js";
import { ReferenceCache } from "./graph.js";
import { GraphBuilder, type GraphEvent, type NodeQueue } from "./graph-builder.js";

/** A queue that remembers what was put on it. */
class RecordingQueue implements NodeQueue {
  readonly added: string[] = [];
  readonly rateLimited: string[] = [];
  add(uid: string): void {
    this.added.push(uid);
  }
  addRateLimited(uid: string): void {
    this.rateLimited.push(uid);
  }
  take(): string[] {
    return this.added.splice(0);
  }
}

function rig() {
  const attemptToDelete = new RecordingQueue();
  const attemptToOrphan = new RecordingQueue();
  const absentOwnerCache = new ReferenceCache(10);
  const recorder = new FakeRecorder();
  const gb = new GraphBuilder({ attemptToDelete, attemptToOrphan, absentOwnerCache, recorder, log: silentLogger });
  return { gb, attemptToDelete, attemptToOrphan, absentOwnerCache, recorder };
}

const ref = (name: string, uid: string, o: Partial<OwnerReference> = {}): OwnerReference => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  name,
  uid,
  ...o,
});

function obj(
  name: string,
  uid: string,
  o: { namespace?: string; owners?: OwnerReference[]; deleting?: string[] } = {},
) {
  const namespace = o.namespace ?? "ns";
  return {
    metadata: {
      name,
      uid,
      ...(namespace ? { namespace } : {}),
      ...(o.owners ? { ownerReferences: o.owners } : {}),
      ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z", finalizers: o.deleting } : {}),
    },
  };
}

const cm = (
  type: GraphEvent["type"],
  o: KubeObject | { metadata: KubeObject["metadata"] },
  oldObj?: GraphEvent["obj"],
) => ({ type, obj: o, ...(oldObj ? { oldObj } : {}), apiVersion: "v1", kind: "ConfigMap" }) as GraphEvent;

describe("GraphBuilder", () => {
  test("a dependent seen before its owner makes a virtual owner the collector checks", () => {
    const r = rig();
    r.gb.enqueue(cm("add", obj("dep", "u-dep", { owners: [ref("owner", "u-owner")] })));
    const owner = r.gb.uidToNode.get("u-owner");
    assert.ok(owner?.virtual);
    assert.deepEqual(owner.identity, {
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "owner",
      uid: "u-owner",
      namespace: "ns",
    });
    assert.deepEqual(r.attemptToDelete.take(), ["u-owner"]);
    // Observing it makes it real; the dependent stays attached.
    r.gb.enqueue(cm("add", obj("owner", "u-owner")));
    assert.equal(owner.virtual, false);
    assert.deepEqual(
      [...owner.dependents].map((d) => d.identity.name),
      ["dep"],
    );
    assert.deepEqual(r.attemptToDelete.take(), []);
  });

  test("an observed owner with other coordinates than a dependent's reference sends that dependent to be checked", () => {
    const r = rig();
    r.gb.enqueue(cm("add", obj("dep", "u-dep", { owners: [ref("old-name", "u-owner")] })));
    r.attemptToDelete.take();
    r.gb.enqueue(cm("add", obj("owner", "u-owner")));
    assert.equal(r.gb.uidToNode.get("u-owner")?.identity.name, "owner");
    assert.deepEqual(r.attemptToDelete.take(), ["u-dep"]);
  });

  test("a deleted owner: its dependents are queued and it is remembered as absent", () => {
    const r = rig();
    r.gb.enqueue(cm("add", obj("owner", "u-owner")));
    r.gb.enqueue(cm("add", obj("a", "u-a", { owners: [ref("owner", "u-owner")] })));
    r.gb.enqueue(cm("add", obj("b", "u-b", { owners: [ref("owner", "u-owner")] })));
    assert.deepEqual(r.attemptToDelete.take(), []);
    r.gb.enqueue(cm("delete", obj("owner", "u-owner")));
    assert.equal(r.gb.uidToNode.has("u-owner"), false);
    assert.deepEqual(r.attemptToDelete.take().sort(), ["u-a", "u-b"]);
    assert.ok(
      r.absentOwnerCache.has({ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: "u-owner", namespace: "ns" }),
    );
  });

  test("foreground deletion starting: the owner and its dependents are queued; the orphan finalizer goes to attemptToOrphan", () => {
    const r = rig();
    const owner = obj("owner", "u-owner");
    r.gb.enqueue(cm("add", owner));
    r.gb.enqueue(cm("add", obj("a", "u-a", { owners: [ref("owner", "u-owner", { blockOwnerDeletion: true })] })));
    r.gb.enqueue(cm("update", obj("owner", "u-owner", { deleting: ["foregroundDeletion"] }), owner));
    const node = r.gb.uidToNode.get("u-owner");
    assert.ok(node?.deletingDependents && node.beingDeleted);
    assert.deepEqual(r.attemptToDelete.take(), ["u-a", "u-owner"]);
    // The same state again is no new transition.
    r.gb.enqueue(
      cm(
        "update",
        obj("owner", "u-owner", { deleting: ["foregroundDeletion"] }),
        obj("owner", "u-owner", { deleting: ["foregroundDeletion"] }),
      ),
    );
    assert.deepEqual(r.attemptToDelete.take(), []);

    const other = obj("orphaner", "u-orph");
    r.gb.enqueue(cm("add", other));
    r.gb.enqueue(cm("update", obj("orphaner", "u-orph", { deleting: ["orphan"] }), other));
    assert.deepEqual(r.attemptToOrphan.take(), ["u-orph"]);
    assert.deepEqual(r.attemptToDelete.take(), []);
  });

  test("a dependent that stops blocking, or goes, wakes its owner in foreground deletion", () => {
    const r = rig();
    r.gb.enqueue(cm("add", obj("owner", "u-owner", { deleting: ["foregroundDeletion"] })));
    r.attemptToDelete.take();
    const blocking = obj("a", "u-a", { owners: [ref("owner", "u-owner", { blockOwnerDeletion: true })] });
    r.gb.enqueue(cm("add", blocking));
    r.gb.enqueue(
      cm("update", obj("a", "u-a", { owners: [ref("owner", "u-owner", { blockOwnerDeletion: false })] }), blocking),
    );
    assert.deepEqual(r.attemptToDelete.take(), ["u-owner"]);
    r.gb.enqueue(cm("delete", obj("a", "u-a", { owners: [ref("owner", "u-owner")] })));
    assert.deepEqual(r.attemptToDelete.take(), ["u-owner"]);
  });

  test("a virtual delete keeps a virtual node that dependents name otherwise, under the other identity", () => {
    const r = rig();
    r.gb.enqueue(cm("add", obj("d1", "u-d1", { owners: [ref("a", "u-owner")] })));
    r.gb.enqueue(cm("add", obj("d2", "u-d2", { owners: [ref("b", "u-owner")] })));
    assert.equal(r.gb.uidToNode.get("u-owner")?.identity.name, "a");
    r.attemptToDelete.take();
    r.gb.enqueueVirtualDeleteEvent({ apiVersion: "v1", kind: "ConfigMap", name: "a", uid: "u-owner", namespace: "ns" });
    const node = r.gb.uidToNode.get("u-owner");
    assert.equal(node?.identity.name, "b", "replaced by the other coordinates");
    assert.deepEqual(r.attemptToDelete.take(), ["u-d1"], "the dependent naming the absent identity is checked");
    assert.deepEqual(r.attemptToDelete.rateLimited, ["u-owner"]);
    // The other identity verified absent too: both are known absent, so the collector deletes
    // both dependents; the node goes once no dependent names it otherwise.
    r.gb.enqueueVirtualDeleteEvent({ apiVersion: "v1", kind: "ConfigMap", name: "b", uid: "u-owner", namespace: "ns" });
    assert.deepEqual(r.attemptToDelete.take(), ["u-d2"]);
    for (const name of ["a", "b"])
      assert.ok(r.absentOwnerCache.has({ apiVersion: "v1", kind: "ConfigMap", name, uid: "u-owner", namespace: "ns" }));
    r.gb.enqueue(cm("delete", obj("d1", "u-d1", { owners: [ref("a", "u-owner")] })));
    r.gb.enqueue(cm("delete", obj("d2", "u-d2", { owners: [ref("b", "u-owner")] })));
    r.gb.enqueueVirtualDeleteEvent({ apiVersion: "v1", kind: "ConfigMap", name: "a", uid: "u-owner", namespace: "ns" });
    assert.equal(r.gb.uidToNode.has("u-owner"), false);
  });

  test("a virtual delete never removes an observed node of other coordinates", () => {
    const r = rig();
    r.gb.enqueue(cm("add", obj("owner", "u-owner")));
    r.gb.enqueue(cm("add", obj("d", "u-d", { owners: [ref("wrong-name", "u-owner")] })));
    r.gb.enqueueVirtualDeleteEvent({
      apiVersion: "v1",
      kind: "ConfigMap",
      name: "wrong-name",
      uid: "u-owner",
      namespace: "ns",
    });
    assert.equal(r.gb.uidToNode.get("u-owner")?.virtual, false);
    assert.ok(
      r.absentOwnerCache.has({
        apiVersion: "v1",
        kind: "ConfigMap",
        name: "wrong-name",
        uid: "u-owner",
        namespace: "ns",
      }),
    );
  });

  test("an owner observed in another namespace: OwnerRefInvalidNamespace on the dependent", () => {
    const r = rig();
    r.gb.enqueue(cm("add", obj("owner", "u-owner", { namespace: "a" })));
    r.gb.enqueue(cm("add", obj("dep", "u-dep", { namespace: "b", owners: [ref("owner", "u-owner")] })));
    assert.deepEqual(r.attemptToDelete.take(), ["u-dep"]);
    assert.deepEqual(r.recorder.events, [
      {
        object: "b/dep",
        kind: "ConfigMap",
        type: "Warning",
        reason: "OwnerRefInvalidNamespace",
        message: 'ownerRef [v1/ConfigMap, namespace: b, name: owner, uid: u-owner] does not exist in namespace "b"',
      },
    ]);
  });

  test("a cluster-scoped owner may have dependents in any namespace", () => {
    const r = rig();
    r.gb.enqueue({ type: "add", obj: obj("owner", "u-ns", { namespace: "" }), apiVersion: "v1", kind: "Namespace" });
    r.gb.enqueue(cm("add", obj("dep", "u-dep", { owners: [ref("owner", "u-ns", { kind: "Namespace" })] })));
    assert.deepEqual(r.attemptToDelete.take(), []);
    assert.deepEqual(r.recorder.events, []);
    assert.equal(r.gb.uidToNode.get("u-ns")?.dependents.size, 1);
  });

  test("monitors: one per resource, fed by its informer; a removed resource goes quiet", () => {
    const r = rig();
    const informers = new Map([
      ["configmaps", new FakeInformer()],
      ["secrets", new FakeInformer()],
      ["namespaces", new FakeInformer()],
    ]);
    const informerFor = (res: { resource: string }) => informers.get(res.resource) as FakeInformer;
    const cmInformer = informers.get("configmaps") as FakeInformer;
    // What the informer already holds is replayed to the new monitor.
    cmInformer.add({ apiVersion: "v1", kind: "ConfigMap", ...obj("early", "u-early") });
    assert.deepEqual(r.gb.syncMonitors([CONFIGMAPS, SECRETS], informerFor), {
      added: ["/v1/configmaps", "/v1/secrets"],
      kept: 0,
      removed: [],
    });
    assert.ok(r.gb.uidToNode.has("u-early"));
    assert.ok(r.gb.isSynced());
    (informers.get("secrets") as FakeInformer).add({ apiVersion: "v1", kind: "Secret", ...obj("s", "u-s") });
    assert.equal(r.gb.uidToNode.get("u-s")?.identity.kind, "Secret");
    assert.deepEqual(r.gb.syncMonitors([CONFIGMAPS, NAMESPACES], informerFor), {
      added: ["/v1/namespaces"],
      kept: 1,
      removed: ["/v1/secrets"],
    });
    (informers.get("secrets") as FakeInformer).add({ apiVersion: "v1", kind: "Secret", ...obj("s2", "u-s2") });
    assert.equal(r.gb.uidToNode.has("u-s2"), false);
    assert.deepEqual(r.gb.monitored().sort(), ["/v1/configmaps", "/v1/namespaces"]);
  });
});
