// The garbage collector against the REAL API server (etcd-backed, separate process), run
// in-process on a ControllerContext built from pkg/ pieces; no other controller runs, so nothing
// but the collector deletes dependents. Owners and dependents are of kinds the collector knows
// nothing special about (a ConfigMap owned by a Secret, by a Deployment, by a Node), and the
// real kubectl drives the three cascades. Pods here are never bound, so their deletes are
// immediate.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isNotFound } from "#pkg/api/errors.js";
import type { KubeObject, OwnerReference } from "#pkg/api/meta.js";
import {
  CONFIGMAPS,
  DEPLOYMENTS,
  NAMESPACES,
  NODES,
  PODS,
  REPLICASETS,
  type ResourceType,
  SECRETS,
} from "#pkg/api/resources.js";
import type { ApiClient } from "#pkg/client/client.js";
import { GarbageCollector } from "../../controller-manager/garbagecollector/garbage-collector.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type RunningController, runController } from "../harness/controllers.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { deployment, pod, podTemplate } from "../harness/objects.js";
import { waitFor } from "../harness/wait.js";

const NS = "gc";
const HOLD = "example.com/hold";
const TIMEOUT = { timeoutMs: 20_000 };

let server: TestApiServer | undefined;
let running: RunningController<GarbageCollector> | undefined;
let kubectl: Kubectl | undefined;

const c = (): ApiClient => {
  if (!server) throw new Error("API server not started");
  return server.client;
};

function ownerRef(o: KubeObject, extra: Partial<OwnerReference> = {}): OwnerReference {
  return {
    apiVersion: o.apiVersion ?? "",
    kind: o.kind ?? "",
    name: o.metadata.name ?? "",
    uid: o.metadata.uid ?? "",
    ...extra,
  };
}

async function gone<T extends KubeObject>(r: ResourceType<T>, ns: string | undefined, name: string): Promise<boolean> {
  try {
    await c().get(r, ns, name);
    return false;
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
}

function waitGone<T extends KubeObject>(r: ResourceType<T>, ns: string | undefined, name: string): Promise<boolean> {
  return waitFor(() => gone(r, ns, name), { ...TIMEOUT, message: `${r.resource} ${name} gone` });
}

function configMap(name: string, owners: OwnerReference[] = [], finalizers?: string[]): object {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name,
      ...(owners.length > 0 ? { ownerReferences: owners } : {}),
      ...(finalizers ? { finalizers } : {}),
    },
    data: { k: "v" },
  };
}

function secret(name: string, owners: OwnerReference[] = [], finalizers?: string[]): object {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      ...(owners.length > 0 ? { ownerReferences: owners } : {}),
      ...(finalizers ? { finalizers } : {}),
    },
    stringData: { k: "v" },
  };
}

const template = podTemplate("web");

describe("garbage collector against a real API server", () => {
  before(async () => {
    server = await startApiServer();
    running = runController(server, (ctx) => new GarbageCollector(ctx));
    kubectl = kubectlFor(server.kubeconfigPath);
    await c().create(NAMESPACES, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    // The monitors are up once the collector has listed every resource.
    await waitFor(() => running?.controller.graph.isSynced(), { ...TIMEOUT, message: "monitors synced" });
  });
  after(async () => {
    kubectl?.close();
    await running?.stop();
    await server?.stop();
  });

  test("background: a three-level chain Deployment → ReplicaSet → Pod, and a ConfigMap owned by the Deployment", async () => {
    const deploy = await c().create(DEPLOYMENTS, NS, deployment("web", 1, { namespace: NS }));
    const rs = await c().create(REPLICASETS, NS, {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: { name: "web-1", ownerReferences: [ownerRef(deploy, { controller: true, blockOwnerDeletion: true })] },
      spec: { replicas: 1, selector: { matchLabels: { app: "web" } }, template },
    });
    await c().create(
      PODS,
      NS,
      pod("web-1-a", {
        namespace: NS,
        app: "web",
        ownerReferences: [ownerRef(rs, { controller: true, blockOwnerDeletion: true })],
      }),
    );
    await c().create(CONFIGMAPS, NS, configMap("web-config", [ownerRef(deploy)]));

    await c().delete(DEPLOYMENTS, NS, "web", { propagationPolicy: "Background" });
    assert.ok(await gone(DEPLOYMENTS, NS, "web"), "background: the owner goes at once");
    await waitGone(REPLICASETS, NS, "web-1");
    await waitGone(PODS, NS, "web-1-a");
    await waitGone(CONFIGMAPS, NS, "web-config");
  });

  test("a ConfigMap owned by a Secret goes with it (no default policy: background)", async () => {
    const owner = await c().create(SECRETS, NS, secret("owner-secret"));
    await c().create(CONFIGMAPS, NS, configMap("owned-by-secret", [ownerRef(owner)]));
    await c().delete(SECRETS, NS, "owner-secret");
    await waitGone(CONFIGMAPS, NS, "owned-by-secret");
  });

  test("a cluster-scoped owner (a Node) of namespaced dependents", async () => {
    const node = await c().create(NODES, undefined, { apiVersion: "v1", kind: "Node", metadata: { name: "gc-node" } });
    await c().create(CONFIGMAPS, NS, configMap("node-config", [ownerRef(node)]));
    await c().create(SECRETS, NS, secret("node-secret", [ownerRef(node)]));
    await c().delete(NODES, undefined, "gc-node");
    await waitGone(CONFIGMAPS, NS, "node-config");
    await waitGone(SECRETS, NS, "node-secret");
  });

  test("an owner reference with the wrong uid is dangling; the namesake owner is left alone", async () => {
    const real = await c().create(CONFIGMAPS, NS, configMap("namesake"));
    await c().create(
      SECRETS,
      NS,
      secret("wrong-uid", [{ ...ownerRef(real), uid: "00000000-0000-0000-0000-000000000000" }]),
    );
    await waitGone(SECRETS, NS, "wrong-uid");
    assert.equal((await c().get(CONFIGMAPS, NS, "namesake")).metadata.uid, real.metadata.uid);
  });

  test("some owners left: only the dangling reference is removed", async () => {
    const alive = await c().create(CONFIGMAPS, NS, configMap("alive"));
    const doomed = await c().create(CONFIGMAPS, NS, configMap("doomed"));
    await c().create(SECRETS, NS, secret("two-owners", [ownerRef(alive), ownerRef(doomed)]));
    await c().delete(CONFIGMAPS, NS, "doomed");
    const s = await waitFor(
      async () => {
        const obj = await c().get(SECRETS, NS, "two-owners");
        return obj.metadata.ownerReferences?.length === 1 ? obj : undefined;
      },
      { ...TIMEOUT, message: "the dangling reference removed" },
    );
    assert.deepEqual(s.metadata.ownerReferences, [ownerRef(alive)]);
  });

  test("foreground: the owner keeps deletionTimestamp and the finalizer until its blocking dependents are gone", async () => {
    const owner = await c().create(CONFIGMAPS, NS, configMap("fg-owner"));
    // The blocking dependent is held by a finalizer of its own, so the wait can be seen.
    await c().create(SECRETS, NS, secret("fg-blocking", [ownerRef(owner, { blockOwnerDeletion: true })], [HOLD]));
    await c().create(SECRETS, NS, secret("fg-plain", [ownerRef(owner)]));
    await c().delete(CONFIGMAPS, NS, "fg-owner", { propagationPolicy: "Foreground" });

    const blocking = await waitFor(
      async () => {
        const s = await c().get(SECRETS, NS, "fg-blocking");
        return s.metadata.deletionTimestamp ? s : undefined;
      },
      { ...TIMEOUT, message: "the blocking dependent being deleted" },
    );
    assert.deepEqual(blocking.metadata.finalizers, [HOLD]);
    await waitGone(SECRETS, NS, "fg-plain");
    const waiting = await c().get(CONFIGMAPS, NS, "fg-owner");
    assert.ok(waiting.metadata.deletionTimestamp);
    assert.deepEqual(waiting.metadata.finalizers, ["foregroundDeletion"]);

    await c().patch(SECRETS, NS, "fg-blocking", { metadata: { finalizers: null } }, "merge");
    await waitGone(SECRETS, NS, "fg-blocking");
    await waitGone(CONFIGMAPS, NS, "fg-owner");
  });

  test("foreground through three levels: the middle goes in foreground too", async () => {
    const top = await c().create(SECRETS, NS, secret("fg3-top"));
    const mid = await c().create(CONFIGMAPS, NS, configMap("fg3-mid", [ownerRef(top, { blockOwnerDeletion: true })]));
    await c().create(SECRETS, NS, secret("fg3-leaf", [ownerRef(mid, { blockOwnerDeletion: true })], [HOLD]));
    await c().delete(SECRETS, NS, "fg3-top", { propagationPolicy: "Foreground" });
    const middle = await waitFor(
      async () => {
        const m = await c().get(CONFIGMAPS, NS, "fg3-mid");
        return m.metadata.deletionTimestamp ? m : undefined;
      },
      { ...TIMEOUT, message: "the middle being deleted" },
    );
    assert.deepEqual(middle.metadata.finalizers, ["foregroundDeletion"]);
    assert.ok((await c().get(SECRETS, NS, "fg3-top")).metadata.deletionTimestamp);
    await c().patch(SECRETS, NS, "fg3-leaf", { metadata: { finalizers: null } }, "merge");
    await waitGone(SECRETS, NS, "fg3-leaf");
    await waitGone(CONFIGMAPS, NS, "fg3-mid");
    await waitGone(SECRETS, NS, "fg3-top");
  });

  test("orphan: dependents are kept, their reference to the owner removed, then the owner goes", async () => {
    const owner = await c().create(CONFIGMAPS, NS, configMap("orphan-owner"));
    const other = await c().create(CONFIGMAPS, NS, configMap("orphan-other"));
    await c().create(SECRETS, NS, secret("orphan-a", [ownerRef(owner, { blockOwnerDeletion: true })]));
    await c().create(SECRETS, NS, secret("orphan-b", [ownerRef(owner), ownerRef(other)]));
    await c().delete(CONFIGMAPS, NS, "orphan-owner", { propagationPolicy: "Orphan" });
    await waitGone(CONFIGMAPS, NS, "orphan-owner");
    assert.equal((await c().get(SECRETS, NS, "orphan-a")).metadata.ownerReferences, undefined);
    assert.deepEqual((await c().get(SECRETS, NS, "orphan-b")).metadata.ownerReferences, [ownerRef(other)]);
  });

  describe("with the real kubectl", () => {
    const k = (): Kubectl => {
      if (!kubectl) throw new Error("kubectl not set up");
      return kubectl;
    };

    test("kubectl delete --cascade=background", async () => {
      const owner = await c().create(SECRETS, NS, secret("k-bg"));
      await c().create(CONFIGMAPS, NS, configMap("k-bg-dep", [ownerRef(owner)]));
      await k().ok(["delete", "secret", "k-bg", "-n", NS, "--cascade=background"]);
      await waitGone(CONFIGMAPS, NS, "k-bg-dep");
    });

    test("kubectl delete --cascade=foreground waits for the owner, which goes after its dependents", async () => {
      const owner = await c().create(SECRETS, NS, secret("k-fg"));
      await c().create(CONFIGMAPS, NS, configMap("k-fg-dep", [ownerRef(owner, { blockOwnerDeletion: true })]));
      const out = await k().ok(["delete", "secret", "k-fg", "-n", NS, "--cascade=foreground", "--timeout=30s"]);
      assert.match(out, /secret "k-fg" deleted/);
      // kubectl waited for the owner to be gone, so its blocking dependent was gone before.
      assert.ok(await gone(SECRETS, NS, "k-fg"));
      assert.ok(await gone(CONFIGMAPS, NS, "k-fg-dep"));
    });

    test("kubectl delete --cascade=orphan keeps the dependents", async () => {
      const owner = await c().create(SECRETS, NS, secret("k-orphan"));
      await c().create(CONFIGMAPS, NS, configMap("k-orphan-dep", [ownerRef(owner)]));
      await k().ok(["delete", "secret", "k-orphan", "-n", NS, "--cascade=orphan", "--timeout=30s"]);
      assert.ok(await gone(SECRETS, NS, "k-orphan"));
      const dep = await c().get(CONFIGMAPS, NS, "k-orphan-dep");
      assert.equal(dep.metadata.ownerReferences, undefined);
    });
  });
});
