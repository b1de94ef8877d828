// The collector end to end on FakeClient: real informers (list + watch) through the shared
// InformerFactory, a fixed discovery. FakeClient answers a strategic merge patch with 415, so the
// JSON merge patch fallback is what runs here (the integration test covers the strategic one),
// and it deletes at once, finalizers or not: assertions are on the requests the collector makes.

import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import type { KubeObject, OwnerReference } from "#pkg/api/meta.js";
import {
  apiVersionOf,
  CONFIGMAPS,
  DEPLOYMENTS,
  EVENTS,
  NAMESPACES,
  type ResourceInfo,
  SECRETS,
} from "#pkg/api/resources.js";
import type { DiscoveredGroupVersion } from "#pkg/client/discovery.js";
import { pollUntil } from "#pkg/runtime/wait.js";
import { type Action, abortFakeContexts, type FakeClient, fakeControllerContext } from "#pkg/testing/index.js";
import { GarbageCollector } from "./garbage-collector.js";

function discoveryOf(resources: readonly ResourceInfo[]): DiscoveredGroupVersion[] {
  const byGV = new Map<string, DiscoveredGroupVersion>();
  for (const r of resources) {
    const key = apiVersionOf(r);
    let gv = byGV.get(key);
    if (!gv) {
      gv = { group: r.group, version: r.version, resources: [] };
      byGV.set(key, gv);
    }
    gv.resources.push({ name: r.resource, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs });
    gv.resources.push({ name: `${r.resource}/status`, namespaced: r.namespaced, kind: r.kind, verbs: ["get"] });
  }
  return [...byGV.values()];
}

afterEach(abortFakeContexts);

interface Rig {
  client: FakeClient;
  gc: GarbageCollector;
  served: ResourceInfo[];
  start(): Promise<void>;
}

function rig(served: ResourceInfo[] = [CONFIGMAPS, SECRETS, DEPLOYMENTS, NAMESPACES, EVENTS]): Rig {
  const ctx = fakeControllerContext();
  const r: Rig = {
    client: ctx.client,
    served,
    gc: new GarbageCollector(ctx, { discover: async () => discoveryOf(r.served), resyncPeriodMs: 50 }),
    async start() {
      void r.gc.run(ctx.startInformers(), 2);
    },
  };
  return r;
}

const ref = (o: KubeObject, extra: Partial<OwnerReference> = {}): OwnerReference => ({
  apiVersion: o.apiVersion ?? "",
  kind: o.kind ?? "",
  name: o.metadata.name ?? "",
  uid: o.metadata.uid ?? "",
  ...extra,
});

function configMap(name: string, o: { owners?: OwnerReference[]; finalizers?: string[]; deleting?: boolean } = {}) {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name,
      namespace: "default",
      uid: `uid-${name}`,
      ...(o.owners ? { ownerReferences: o.owners } : {}),
      ...(o.finalizers ? { finalizers: o.finalizers } : {}),
      ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z", deletionGracePeriodSeconds: 0 } : {}),
    },
  } as KubeObject;
}

function secret(name: string, owners: OwnerReference[]): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: "default", uid: `uid-${name}`, ownerReferences: owners },
  };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const ok = await pollUntil(cond, 5, { timeoutMs: 10_000, immediate: true });
  assert.ok(ok, `timed out waiting for: ${what}`);
}

/** Nothing queued or in progress on attemptToDelete. */
const idle = (r: Rig) => r.gc.attemptToDelete.length === 0 && r.gc.attemptToDelete.processingCount === 0;

const deletes = (c: FakeClient) => c.actionsOf("delete").map((a) => `${a.resource}/${a.name}`);
const writes = (c: FakeClient): Action[] => c.actions.filter((a) => a.verb === "delete" || a.verb === "patch");

describe("GarbageCollector", () => {
  test("dependents of an absent owner, of any kind, are deleted in background with a uid precondition", async () => {
    const r = rig();
    const gone = configMap("gone");
    r.client.seed(SECRETS, secret("s", [ref(gone)]));
    r.client.seed(CONFIGMAPS, configMap("c", { owners: [ref(gone)] }));
    await r.start();
    await until("both deleted", () => deletes(r.client).length === 2);
    assert.deepEqual(deletes(r.client).sort(), ["configmaps/c", "secrets/s"]);
    const s = r.client.actionsOf("delete", SECRETS)[0];
    assert.equal(s?.options?.propagationPolicy, "Background");
    assert.equal(s?.options?.preconditions?.uid, "uid-s");
    assert.ok(s?.options?.preconditions?.resourceVersion);
  });

  test("an owner reference whose uid is not the live object's counts as absent", async () => {
    const r = rig();
    const owner = configMap("owner");
    r.client.seed(CONFIGMAPS, owner);
    r.client.seed(SECRETS, secret("s", [{ ...ref(owner), uid: "someone-else" }]));
    await r.start();
    await until("the secret deleted", () => deletes(r.client).includes("secrets/s"));
    assert.deepEqual(deletes(r.client), ["secrets/s"], "the namesake owner is left alone");
  });

  test("some owners left: only the dangling reference is removed", async () => {
    const r = rig();
    const alive = configMap("alive");
    const gone = configMap("gone");
    r.client.seed(CONFIGMAPS, alive);
    r.client.seed(SECRETS, secret("s", [ref(alive), ref(gone)]));
    await r.start();
    await until("the secret patched", () => r.client.actionsOf("patch", SECRETS).some((a) => a.patchType === "merge"));
    const [smp, jmp] = r.client.actionsOf("patch", SECRETS);
    assert.deepEqual(smp?.patch, {
      metadata: { ownerReferences: [{ $patch: "delete", uid: "uid-gone" }], uid: "uid-s" },
    });
    const patched = jmp?.patch as { metadata: { ownerReferences: OwnerReference[]; resourceVersion?: string } };
    assert.deepEqual(patched.metadata.ownerReferences, [ref(alive)]);
    assert.ok(patched.metadata.resourceVersion);
    assert.deepEqual(r.client.object(SECRETS, "default", "s")?.metadata.ownerReferences, [ref(alive)]);
    assert.deepEqual(deletes(r.client), []);
  });

  test("foreground: blocking dependents are deleted before the owner's finalizer is removed", async () => {
    const r = rig();
    const owner = configMap("owner", { finalizers: ["foregroundDeletion"], deleting: true });
    r.client.seed(CONFIGMAPS, owner);
    r.client.seed(SECRETS, secret("s", [ref(owner, { blockOwnerDeletion: true })]));
    await r.start();
    await until("the finalizer removed", () => r.client.actionsOf("patch", CONFIGMAPS).length > 0);
    const w = writes(r.client).map((a) => `${a.verb} ${a.resource}/${a.name}`);
    assert.deepEqual(w, ["delete secrets/s", "patch configmaps/owner"]);
    // The dependent had no dependents of its own: background.
    assert.equal(r.client.actionsOf("delete", SECRETS)[0]?.options?.propagationPolicy, "Background");
    const fin = r.client.actionsOf("patch", CONFIGMAPS)[0]?.patch as
      | { metadata?: { finalizers?: unknown } }
      | undefined;
    assert.equal(fin?.metadata?.finalizers, null);
  });

  test("foreground through a chain: a dependent with dependents of its own goes in foreground", async () => {
    const r = rig();
    const owner = configMap("owner", { finalizers: ["foregroundDeletion"], deleting: true });
    const middle = configMap("middle", { owners: [ref(owner, { blockOwnerDeletion: true })] });
    r.client.seed(CONFIGMAPS, owner, middle);
    r.client.seed(SECRETS, secret("leaf", [ref(middle, { blockOwnerDeletion: true })]));
    await r.start();
    await until("middle deleted", () => deletes(r.client).includes("configmaps/middle"));
    const del = r.client.actionsOf("delete", CONFIGMAPS).find((a) => a.name === "middle");
    assert.equal(del?.options?.propagationPolicy, "Foreground");
  });

  test("orphan: the owner's reference is stripped from every dependent, then the finalizer goes", async () => {
    const r = rig();
    const owner = configMap("owner", { finalizers: ["orphan"], deleting: true });
    const other = configMap("other");
    r.client.seed(CONFIGMAPS, owner, other);
    r.client.seed(SECRETS, secret("a", [ref(owner)]), secret("b", [ref(owner), ref(other)]));
    await r.start();
    await until("the finalizer removed", () =>
      r.client.actionsOf("patch", CONFIGMAPS).some((a) => a.name === "owner" && a.patchType === "merge"),
    );
    assert.equal(r.client.object(SECRETS, "default", "a")?.metadata.ownerReferences, undefined);
    assert.deepEqual(r.client.object(SECRETS, "default", "b")?.metadata.ownerReferences, [ref(other)]);
    assert.equal(r.client.object(CONFIGMAPS, "default", "owner")?.metadata.finalizers, undefined);
    assert.deepEqual(deletes(r.client), []);
  });

  test("a cluster-scoped owner of a namespaced dependent; a cluster-scoped dependent of a namespaced owner is left", async () => {
    const r = rig();
    const ns: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: "team", uid: "uid-team" } };
    r.client.seed(NAMESPACES, ns);
    r.client.seed(SECRETS, secret("kept", [ref(ns)]));
    r.client.seed(SECRETS, secret("orphaned", [ref({ ...ns, metadata: { name: "gone-ns", uid: "uid-gone-ns" } })]));
    r.client.seed(NAMESPACES, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "odd", uid: "uid-odd", ownerReferences: [ref(configMap("gone"))] },
    });
    await r.start();
    await until("the secret of the missing namespace deleted", () => deletes(r.client).includes("secrets/orphaned"));
    // The cluster-scoped Namespace naming a ConfigMap: its owner cannot be looked up, it stays.
    await until("the virtual owner checked", () => r.client.actionsOf("get", CONFIGMAPS).length === 0 && idle(r));
    assert.equal(r.gc.graph.uidToNode.get("uid-gone")?.virtual, true);
    assert.deepEqual(deletes(r.client), ["secrets/orphaned"]);
  });

  test("resources that appear in discovery are monitored from the next resync", async () => {
    const r = rig([CONFIGMAPS]);
    const gone = configMap("gone");
    r.client.seed(SECRETS, secret("s", [ref(gone)]));
    await r.start();
    await until("configmaps monitored", () => r.gc.graph.isSynced());
    assert.deepEqual(r.gc.graph.monitored(), ["/v1/configmaps"]);
    assert.deepEqual(deletes(r.client), []);
    r.served = [CONFIGMAPS, SECRETS];
    await until("the secret deleted", () => deletes(r.client).includes("secrets/s"));
  });

  test("events are never monitored", async () => {
    const r = rig();
    await r.start();
    await until("synced", () => r.gc.graph.isSynced());
    assert.ok(!r.gc.graph.monitored().some((k) => k.endsWith("/events")));
  });
});
