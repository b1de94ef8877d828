// The generic Store and Registry over a storage backend: CRUD for every built-in resource,
// concurrency, watch, paging, selectors, namespace lifecycle, deletion rules, subresources and
// service IP/port allocation. Run against a real etcd (test/integration/registry.test.ts) and
// against the in-memory storage (apiserver/registry/registry.test.ts), as upstream runs its
// storage tests against etcd3 and the cacher (apiserver/pkg/storage/testing).

import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { enabledAdmissionPlugins } from "../../apiserver/admission/plugins.js";
import { allocationValue } from "../../apiserver/registry/core/service/allocator.js";
import { Registry, type RegistryOptions } from "../../apiserver/registry/registry.js";
import { isAlreadyExists, isConflict, isGone, isInvalid, isNotFound, StatusError } from "../../pkg/api/errors.js";
import type { KubeObject, WatchEvent } from "../../pkg/api/meta.js";
import { type ResourceInfo, registry as resources, STORED_RESOURCES } from "../../pkg/api/resources.js";
import { silentLogger } from "../../pkg/runtime/log.js";
import { waitFor } from "../harness/wait.js";

/** Where the registries of the suite keep their objects. */
export interface RegistryBackend {
  /** The storage options of a registry on prefix; the same prefix twice: a second API server on it. */
  storageFor(prefix: string): Pick<RegistryOptions, "etcdServers" | "storage">;
  /** After the suite: stop what storageFor started. */
  close(): Promise<void>;
}

const R = (name: string): ResourceInfo => {
  const r = resources.lookup(name);
  assert.ok(r, name);
  return r;
};
const pods = R("pods");
const services = R("services");
const namespaces = R("namespaces");
const configmaps = R("configmaps");
const deployments = R("deployments");

let backend: RegistryBackend;
const opened: Registry[] = [];
let seq = 0;

async function openRegistry(extra: Partial<Parameters<typeof Registry.open>[0]> = {}): Promise<Registry> {
  const reg = await Registry.open({
    ...backend.storageFor(`/reg${++seq}-${process.pid}`),
    prefix: `/reg${seq}-${process.pid}`,
    serviceClusterIPRange: "10.96.0.0/12",
    log: silentLogger,
    compactionIntervalMs: 0,
    // Pods here run as no ServiceAccount: nothing makes the accounts (no controller-manager),
    // and nothing would remove the storage protection finalizers.
    admissionPlugins: enabledAdmissionPlugins([], ["ServiceAccount", "StorageObjectInUseProtection"]),
    ...extra,
  });
  opened.push(reg);
  return reg;
}

const ctx = {};
const podTemplate = {
  metadata: { labels: { app: "web" } },
  spec: { containers: [{ name: "c", image: "busybox" }] },
};

/** A minimal valid object of every built-in kind. */
function sample(r: ResourceInfo, name: string): KubeObject {
  // The Store owns what it is given (it mutates it): always hand it a fresh copy.
  return structuredClone(sampleShared(r, name));
}

function sampleShared(r: ResourceInfo, name: string): KubeObject {
  const base = { apiVersion: r.group ? `${r.group}/${r.version}` : r.version, kind: r.kind, metadata: { name } };
  const selector = { matchLabels: { app: "web" } };
  switch (r.resource) {
    case "pods":
      return { ...base, spec: { containers: [{ name: "c", image: "busybox" }] } };
    case "services":
      return { ...base, spec: { selector: { app: "web" }, ports: [{ port: 80, protocol: "TCP", targetPort: 8080 }] } };
    case "endpoints":
      return { ...base, subsets: [] };
    case "namespaces":
    case "nodes":
      return { ...base, spec: {} };
    case "configmaps":
      return { ...base, data: { k: "v" } };
    case "secrets":
      return { ...base, type: "Opaque", data: { k: Buffer.from("v").toString("base64") } };
    case "events":
      return {
        ...base,
        involvedObject: { kind: "Pod", namespace: "default", name: "p" },
        reason: "Test",
        message: "m",
        type: "Normal",
      };
    case "serviceaccounts":
      return base;
    case "deployments":
    case "replicasets":
    case "daemonsets":
      return { ...base, spec: { replicas: 1, selector, template: podTemplate } };
    case "replicationcontrollers":
      return { ...base, spec: { replicas: 1, selector: { app: "web" }, template: podTemplate } };
    case "statefulsets":
      return { ...base, spec: { replicas: 1, serviceName: "s", selector, template: podTemplate } };
    case "jobs":
      return { ...base, spec: { template: { ...podTemplate, spec: { ...podTemplate.spec, restartPolicy: "Never" } } } };
    case "cronjobs":
      return {
        ...base,
        spec: {
          schedule: "*/1 * * * *",
          jobTemplate: {
            spec: { template: { ...podTemplate, spec: { ...podTemplate.spec, restartPolicy: "Never" } } },
          },
        },
      };
    case "leases":
      return { ...base, spec: { holderIdentity: "me", leaseDurationSeconds: 15 } };
    case "controllerrevisions":
      return { ...base, data: { spec: { template: { $patch: "replace" } } }, revision: 1 };
    case "endpointslices":
      return {
        ...base,
        addressType: "IPv4",
        endpoints: [{ addresses: ["10.1.2.3"], conditions: { ready: true } }],
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      };
    case "poddisruptionbudgets":
      return { ...base, spec: { minAvailable: 1, selector } };
    case "roles":
      return { ...base, rules: [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }] };
    case "clusterroles":
      return { ...base, rules: [{ verbs: ["get"], nonResourceURLs: ["/healthz"] }] };
    case "rolebindings":
    case "clusterrolebindings":
      return {
        ...base,
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "User", name: "jane" }],
      };
    case "resourcequotas":
      return { ...base, spec: { hard: { "count/configmaps": "100" } } };
    case "limitranges":
      return { ...base, spec: { limits: [{ type: "Container", max: { cpu: "4" } }] } };
    case "persistentvolumes":
      return {
        ...base,
        spec: { capacity: { storage: "1Gi" }, accessModes: ["ReadWriteOnce"], hostPath: { path: "/tmp/pv" } },
      };
    case "persistentvolumeclaims":
      return { ...base, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } };
    case "storageclasses":
      return { ...base, provisioner: "example.com/sc" };
    case "priorityclasses":
      return { ...base, value: 1000, description: "a sample class" };
    default:
      throw new Error(`no sample for ${r.resource}`);
  }
}

async function take(it: AsyncIterator<WatchEvent>, count: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  while (out.length < count) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** The suite, over the given backend. */
export function registrySuite(b: RegistryBackend): void {
  backend = b;
  after(async () => {
    for (const r of opened) await r.close();
    await backend.close();
  });
  describe("Registry", registryTests);
}

function registryTests(): void {
  test("open creates the default namespaces, idempotently", async () => {
    const reg = await openRegistry();
    const names = (await reg.store(namespaces).list(undefined, {})).items.map((n) => n.metadata.name);
    assert.deepEqual(names.sort(), ["default", "kube-node-lease", "kube-public", "kube-system"]);
    const ns = await reg.store(namespaces).get(undefined, "default");
    assert.deepEqual((ns as unknown as { spec?: unknown }).spec, { finalizers: ["kubernetes"] });
    assert.equal((ns as { status?: { phase?: string } }).status?.phase, "Active");
    // A second API server on the same prefix finds them and creates nothing.
    const again = await Registry.open({
      ...backend.storageFor(reg.storage.prefix),
      prefix: reg.storage.prefix,
      log: silentLogger,
      compactionIntervalMs: 0,
      // Pods here run as no ServiceAccount: nothing makes the accounts (no controller-manager),
      // and nothing would remove the storage protection finalizers.
      admissionPlugins: enabledAdmissionPlugins([], ["ServiceAccount", "StorageObjectInUseProtection"]),
    });
    opened.push(again);
    const ns2 = await again.store(namespaces).get(undefined, "default");
    assert.equal(ns2.metadata.uid, ns.metadata.uid);
    assert.equal(await reg.healthy(), true);
    assert.throws(() => reg.store({ group: "nope", resource: "things" }), /no store/);
  });

  test("CRUD through the Store for every built-in resource", async () => {
    const reg = await openRegistry();
    for (const r of STORED_RESOURCES) {
      const store = reg.store(r);
      const ns = r.namespaced ? "default" : undefined;
      const name = `crud-${r.singular}`;
      const created = await store.create(ns, sample(r, name), ctx);
      assert.equal(created.metadata.name, name, r.resource);
      assert.equal(created.metadata.namespace, ns, r.resource);
      assert.match(created.metadata.uid ?? "", /^[0-9a-f-]{36}$/);
      assert.match(created.metadata.creationTimestamp ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(created.metadata.generation, 1);
      assert.ok(Number(created.metadata.resourceVersion) > 0);
      await assert.rejects(store.create(ns, sample(r, name), ctx), isAlreadyExists, r.resource);

      const got = await store.get(ns, name);
      assert.equal(got.metadata.uid, created.metadata.uid);
      const listed = await store.list(ns, {});
      assert.equal(listed.kind, r.listKind);
      assert.ok(listed.items.some((i) => i.metadata.name === name));

      const upd = structuredClone(got);
      upd.metadata.labels = { touched: "yes" };
      const { object: updated, created: wasCreated } = await store.update(ns, name, upd, ctx);
      assert.equal(wasCreated, false);
      assert.equal(updated.metadata.labels?.touched, "yes");
      assert.ok(Number(updated.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
      assert.equal(updated.metadata.uid, created.metadata.uid);
      assert.equal(updated.metadata.creationTimestamp, created.metadata.creationTimestamp);

      const { object: patched } = await store.patch(ns, name, "merge", { metadata: { annotations: { a: "b" } } }, ctx);
      assert.equal(patched.metadata.annotations?.a, "b");
      assert.equal(patched.metadata.labels?.touched, "yes");

      if (r.resource === "namespaces") continue; // namespace deletion has its own test
      // Background: some kinds orphan by default (core/v1 ReplicationController) and would wait
      // for the garbage collector's orphan finalizer instead of going at once.
      const { deleted } = await store.delete(ns, name, { propagationPolicy: "Background" }, ctx);
      assert.equal(deleted, true, r.resource);
      await assert.rejects(
        store.get(ns, name),
        (e) => isNotFound(e) && (e as Error).message.includes(`"${name}" not found`),
      );
    }
  });

  test("create: namespace from the path, mismatch 400, missing namespace 404, generateName, resourceVersion set 400", async () => {
    const reg = await openRegistry();
    const cms = reg.store(configmaps);
    const c = await cms.create("default", sample(configmaps, "a"), ctx);
    assert.equal(c.metadata.namespace, "default");
    // get with a resourceVersion: from the watch cache once it has seen that revision; "0": any.
    assert.equal(
      (await cms.get("default", "a", { resourceVersion: c.metadata.resourceVersion ?? "" })).metadata.uid,
      c.metadata.uid,
    );
    await waitFor(
      async () =>
        (await cms.get("default", "a", { resourceVersion: "0" }).catch(() => undefined))?.metadata.uid ===
        c.metadata.uid,
    );
    await assert.rejects(
      cms.get("default", "a", { resourceVersion: "x" }),
      (e) => e instanceof StatusError && e.code === 400,
    );
    const wrong = sample(configmaps, "b");
    wrong.metadata.namespace = "kube-system";
    await assert.rejects(cms.create("default", wrong, ctx), (e) => e instanceof StatusError && e.code === 400);
    await assert.rejects(
      cms.create("nope", sample(configmaps, "c"), ctx),
      (e) => isNotFound(e) && (e as Error).message === 'namespaces "nope" not found',
    );
    const g = await cms.create(
      "default",
      { apiVersion: "v1", kind: "ConfigMap", metadata: { generateName: "gen-" } },
      ctx,
    );
    assert.match(g.metadata.name ?? "", /^gen-[a-z0-9]{5}$/);
    await assert.rejects(
      cms.create("default", { apiVersion: "v1", kind: "ConfigMap", metadata: {} }, ctx),
      (e) =>
        isInvalid(e) && /metadata.name: Required value: name or generateName is required/.test((e as Error).message),
    );
    const withRv = sample(configmaps, "rv");
    withRv.metadata.resourceVersion = "5";
    await assert.rejects(cms.create("default", withRv, ctx), (e) => e instanceof StatusError && e.code === 400);
    await assert.rejects(
      cms.create("default", { ...sample(configmaps, "Bad_Name") }, ctx),
      (e) => isInvalid(e) && /metadata.name: Invalid value: "Bad_Name"/.test((e as Error).message),
    );
    await assert.rejects(
      cms.create("default", { ...sample(configmaps, "k"), kind: "Secret" }, ctx),
      (e) => e instanceof StatusError && e.code === 400,
    );
    // dryRun: validated, not stored.
    const dry = await cms.create("default", sample(configmaps, "dry"), { dryRun: true });
    assert.equal(dry.metadata.name, "dry");
    await assert.rejects(cms.get("default", "dry"), isNotFound);
  });

  test("20 concurrent updaters of one object: each lands or gets 409, none is lost", async () => {
    const reg = await openRegistry();
    const cms = reg.store(configmaps);
    await cms.create("default", { ...sample(configmaps, "counter"), data: { n: "0" } }, ctx);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, async () => {
        const cur = await cms.get("default", "counter");
        const next = structuredClone(cur);
        next.data = { n: String(Number((cur.data as { n: string }).n) + 1) };
        return cms.update("default", "counter", next, ctx);
      }),
    );
    let ok = 0;
    for (const r of results) {
      if (r.status === "fulfilled") ok++;
      else assert.ok(isConflict(r.reason), String(r.reason));
    }
    const final = await cms.get("default", "counter");
    assert.equal((final.data as { n: string }).n, String(ok));
    const conflictMsg = results.find((r) => r.status === "rejected");
    if (conflictMsg?.status === "rejected")
      assert.match(
        (conflictMsg.reason as Error).message,
        /^Operation cannot be fulfilled on configmaps "counter": the object has been modified; please apply your changes to the latest version and try again$/,
      );
    // An update without resourceVersion is unconditional; a no-op update writes nothing.
    const unconditional = structuredClone(final);
    delete unconditional.metadata.resourceVersion;
    const u = await cms.update("default", "counter", unconditional, ctx);
    assert.equal(u.object.metadata.resourceVersion, final.metadata.resourceVersion);
    // The same content with its keys in another order is still a no-op.
    const reordered = {
      data: final.data,
      metadata: { ...final.metadata },
      kind: final.kind,
      apiVersion: final.apiVersion,
    };
    const r2 = await cms.update("default", "counter", reordered as KubeObject, ctx);
    assert.equal(r2.object.metadata.resourceVersion, final.metadata.resourceVersion);
    // Patches retry on conflict internally: 20 concurrent patches all land.
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => cms.patch("default", "counter", "merge", { data: { [`k${i}`]: "x" } }, ctx)),
    );
    const patched = await cms.get("default", "counter");
    assert.equal(Object.keys(patched.data as object).length, 21);
  });

  test("update rules: immutable fields, name mismatch, status and spec endpoints cannot change each other", async () => {
    const reg = await openRegistry();
    const store = reg.store(deployments);
    const d = await store.create("default", sample(deployments, "d"), ctx);
    const changedUid = structuredClone(d);
    changedUid.metadata.uid = "00000000-0000-0000-0000-000000000000";
    await assert.rejects(
      store.update("default", "d", changedUid, ctx),
      (e) => isInvalid(e) && /metadata.uid/.test((e as Error).message),
    );
    await assert.rejects(
      store.update("default", "other", structuredClone(d), ctx),
      (e) => e instanceof StatusError && e.code === 400,
    );
    await assert.rejects(store.update("default", "missing", sample(deployments, "missing"), ctx), isNotFound);

    // Spec change via the main endpoint bumps generation; status in the body is ignored.
    const s1 = structuredClone(d) as KubeObject & { spec: { replicas: number }; status?: unknown };
    s1.spec.replicas = 3;
    s1.status = { replicas: 99 };
    const { object: u1 } = await store.update("default", "d", s1, ctx);
    assert.equal(u1.metadata.generation, 2);
    assert.notDeepEqual((u1 as { status?: unknown }).status, { replicas: 99 });
    // The status endpoint changes status only.
    const s2 = structuredClone(u1) as KubeObject & { spec: { replicas: number }; status?: unknown };
    s2.spec.replicas = 7;
    s2.status = { replicas: 3 };
    const { object: u2 } = await store.update("default", "d", s2, { subresource: "status" });
    assert.deepEqual((u2 as { status?: unknown }).status, { replicas: 3 });
    assert.equal((u2 as unknown as { spec: { replicas: number } }).spec.replicas, 3);
    assert.equal(u2.metadata.generation, 2);
    // A patch with a stale resourceVersion is a 409.
    await assert.rejects(
      store.patch(
        "default",
        "d",
        "merge",
        { metadata: { resourceVersion: d.metadata.resourceVersion }, spec: { replicas: 1 } },
        ctx,
      ),
      isConflict,
    );
    // JSON patch and strategic merge patch go through the same update path.
    const { object: jp } = await store.patch(
      "default",
      "d",
      "json",
      [{ op: "replace", path: "/spec/replicas", value: 4 }],
      ctx,
    );
    assert.equal((jp as unknown as { spec: { replicas: number } }).spec.replicas, 4);
    assert.equal(jp.metadata.generation, 3);
  });

  test("server-side apply creates a missing object and updates it", async () => {
    const reg = await openRegistry();
    const cms = reg.store(configmaps);
    const cfg = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "applied" }, data: { a: "1" } };
    const first = await cms.patch("default", "applied", "apply", cfg, { fieldManager: "me" });
    assert.equal(first.created, true);
    assert.equal(first.object.metadata.namespace, "default");
    assert.ok(first.object.metadata.uid);
    const second = await cms.patch("default", "applied", "apply", { ...cfg, data: { a: "2" } }, { fieldManager: "me" });
    assert.equal(second.created, false);
    assert.deepEqual(second.object.data, { a: "2" });
    await assert.rejects(
      cms.patch("nope", "x", "apply", { ...cfg, metadata: { name: "x" } }, { fieldManager: "me" }),
      isNotFound,
    );
    await assert.rejects(cms.patch("default", "x", "merge", { data: {} }, ctx), isNotFound);
  });

  test("watch through the Store: initial ADDED, ordered changes, resume from a mid resourceVersion, selectors", async () => {
    const reg = await openRegistry();
    const cms = reg.store(configmaps);
    await cms.create("default", sample(configmaps, "pre"), ctx);
    const ac = new AbortController();
    const it = cms.watch("default", {}, ac.signal)[Symbol.asyncIterator]();
    const [pre] = await take(it, 1);
    assert.equal(pre?.type, "ADDED");
    assert.equal(pre?.object.metadata.name, "pre");
    const rvs: string[] = [];
    rvs.push((await cms.create("default", sample(configmaps, "w"), ctx)).metadata.resourceVersion ?? "");
    for (let i = 0; i < 5; i++)
      rvs.push(
        (await cms.patch("default", "w", "merge", { data: { i: String(i) } }, ctx)).object.metadata.resourceVersion ??
          "",
      );
    rvs.push((await cms.delete("default", "w", {}, ctx)).object.metadata.resourceVersion ?? "");
    const evs = await take(it, 7);
    assert.deepEqual(
      evs.map((e) => e.type),
      ["ADDED", "MODIFIED", "MODIFIED", "MODIFIED", "MODIFIED", "MODIFIED", "DELETED"],
    );
    assert.deepEqual(
      evs.map((e) => e.object.metadata.resourceVersion),
      rvs,
    );
    ac.abort();
    const resumed = cms
      .watch("default", { resourceVersion: rvs[2] }, AbortSignal.timeout(60_000))
      [Symbol.asyncIterator]();
    assert.deepEqual(
      (await take(resumed, 4)).map((e) => e.object.metadata.resourceVersion),
      rvs.slice(3),
    );
    await resumed.return?.(undefined);
    // A list's resourceVersion is a valid watch start (even when it is another resource's revision).
    const list = await cms.list("default", { labelSelector: "app=x" });
    const fromList = cms
      .watch(
        "default",
        { resourceVersion: list.metadata.resourceVersion, labelSelector: "app=x" },
        AbortSignal.timeout(60_000),
      )
      [Symbol.asyncIterator]();
    const next = fromList.next();
    await cms.create("default", { ...sample(configmaps, "nolabel") }, ctx);
    const labelled = sample(configmaps, "labelled");
    labelled.metadata.labels = { app: "x" };
    await cms.create("default", labelled, ctx);
    assert.equal((await next).value?.object.metadata.name, "labelled");
    await fromList.return?.(undefined);
    await assert.rejects(
      cms.watch("default", { resourceVersion: "1" }, AbortSignal.timeout(60_000))[Symbol.asyncIterator]().next(),
      isGone,
    );
    await assert.rejects(
      cms.watch("default", { labelSelector: "a in (" }, AbortSignal.timeout(60_000))[Symbol.asyncIterator]().next(),
      (e) => e instanceof StatusError && e.code === 400,
    );
  });

  test("watch options: sendInitialEvents, timeoutSeconds, option validation; 413 for huge objects", async () => {
    const reg = await openRegistry();
    const cms = reg.store(configmaps);
    await cms.create("default", sample(configmaps, "one"), ctx);
    const it = cms
      .watch(
        "default",
        { sendInitialEvents: true, allowWatchBookmarks: true, resourceVersionMatch: "NotOlderThan" },
        AbortSignal.timeout(60_000),
      )
      [Symbol.asyncIterator]();
    const [added, end] = await take(it, 2);
    assert.equal(added?.type, "ADDED");
    assert.equal(end?.type, "BOOKMARK");
    assert.equal(end?.object.metadata.annotations?.["k8s.io/initial-events-end"], "true");
    await it.return?.(undefined);
    const timed = cms.watch(
      "default",
      { resourceVersion: end?.object.metadata.resourceVersion, timeoutSeconds: 1 },
      AbortSignal.timeout(60_000),
    );
    const t0 = Date.now();
    for await (const _ of timed) assert.fail("no events expected");
    assert.ok(Date.now() - t0 >= 900);
    await assert.rejects(
      cms.watch("default", { sendInitialEvents: true }, AbortSignal.timeout(60_000))[Symbol.asyncIterator]().next(),
      (e) => isInvalid(e) && /allowWatchBookmarks: Forbidden/.test((e as Error).message),
    );
    // Over etcd's 1.5 MiB request limit (a kind without its own size limit): 413.
    const big = sample(pods, "big") as KubeObject & { spec: { containers: Array<Record<string, unknown>> } };
    (big.spec.containers[0] as Record<string, unknown>).env = [{ name: "BLOB", value: "x".repeat(1_600_000) }];
    await assert.rejects(
      reg.store(pods).create("default", big, ctx),
      (e) => e instanceof StatusError && e.code === 413,
    );
  });

  test("lists: paging over 1,000 objects (each exactly once, also with concurrent creates), rv=0 from the cache, selectors", async () => {
    const reg = await openRegistry();
    const cms = reg.store(configmaps);
    for (let i = 0; i < 1000; i += 50)
      await Promise.all(
        Array.from({ length: 50 }, (_, j) => {
          const o = sample(configmaps, `cm-${String(i + j).padStart(4, "0")}`);
          o.metadata.labels = { tier: (i + j) % 3 === 0 ? "db" : "web" };
          return cms.create("default", o, ctx);
        }),
      );
    const seen = new Map<string, number>();
    let token: string | undefined;
    let extra = 0;
    let listRv: string | undefined;
    do {
      const page = await cms.list("default", { limit: 123, ...(token ? { continue: token } : {}) });
      listRv ??= page.metadata.resourceVersion;
      assert.equal(page.metadata.resourceVersion, listRv);
      for (const it of page.items) seen.set(it.metadata.name ?? "", (seen.get(it.metadata.name ?? "") ?? 0) + 1);
      token = page.metadata.continue;
      if (token) assert.equal(page.metadata.remainingItemCount, 1000 - seen.size);
      await cms.create("default", sample(configmaps, `cm-0500-extra-${extra++}`), ctx);
    } while (token);
    assert.equal(seen.size, 1000);
    assert.ok([...seen.values()].every((n) => n === 1));

    await waitFor(async () => (await cms.list("default", { resourceVersion: "0" })).items.length === 1000 + extra);
    const db = await cms.list("default", { resourceVersion: "0", labelSelector: "tier=db" });
    assert.equal(db.items.length, 334);
    const dbEtcd = await cms.list("default", { labelSelector: "tier=db", limit: 100 });
    assert.equal(dbEtcd.items.length, 100);
    assert.ok(dbEtcd.metadata.continue);
    const byName = await cms.list("default", { fieldSelector: "metadata.name=cm-0007" });
    assert.deepEqual(
      byName.items.map((i) => i.metadata.name),
      ["cm-0007"],
    );
    const notIn = await cms.list(undefined, { fieldSelector: "metadata.namespace!=default" });
    assert.equal(notIn.items.length, 0);
    await assert.rejects(
      cms.list("default", { fieldSelector: "spec.nope=1" }),
      (e) => e instanceof StatusError && e.code === 400,
    );
    await assert.rejects(
      cms.list("default", { labelSelector: "=bad" }),
      (e) => e instanceof StatusError && e.code === 400,
    );
    // Exact read at an old revision.
    const exact = await cms.list("default", { resourceVersion: listRv, resourceVersionMatch: "Exact", limit: 5000 });
    assert.equal(exact.items.length, 1000);
  });

  test("pod field selectors (spec.nodeName, status.phase) and binding", async () => {
    const reg = await openRegistry();
    const store = reg.store(pods);
    await store.create("default", sample(pods, "p1"), ctx);
    await store.create("default", sample(pods, "p2"), ctx);
    const unscheduled = await store.list(undefined, { fieldSelector: "spec.nodeName=" });
    assert.equal(unscheduled.items.length, 2);
    const ok = await store.bind(
      "default",
      "p1",
      {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name: "p1" },
        target: { kind: "Node", name: "node-a" },
      } as KubeObject,
      ctx,
    );
    assert.equal((ok as unknown as { status: string }).status, "Success");
    const p1 = await store.get("default", "p1");
    assert.equal((p1 as unknown as { spec: { nodeName?: string } }).spec.nodeName, "node-a");
    await assert.rejects(
      store.bind(
        "default",
        "p1",
        { apiVersion: "v1", kind: "Binding", metadata: { name: "p1" }, target: { name: "node-b" } } as KubeObject,
        ctx,
      ),
      (e) => isConflict(e) && (e as Error).message.includes('pod p1 is already assigned to node "node-a"'),
    );
    const onA = await store.list("default", { fieldSelector: "spec.nodeName=node-a" });
    assert.deepEqual(
      onA.items.map((p) => p.metadata.name),
      ["p1"],
    );
    const pending = await store.list("default", {
      fieldSelector: "status.phase=Pending,spec.nodeName!=node-a",
      resourceVersion: "0",
    });
    await waitFor(
      async () =>
        (await store.list("default", { fieldSelector: "spec.nodeName=node-a", resourceVersion: "0" })).items.length ===
        1,
    );
    assert.ok(pending.items.every((p) => p.metadata.name !== "p1"));
    await assert.rejects(
      store.bind(
        "default",
        "nope",
        { apiVersion: "v1", kind: "Binding", metadata: { name: "nope" }, target: { name: "n" } } as KubeObject,
        ctx,
      ),
      isNotFound,
    );
  });

  test("graceful pod deletion and finalizers", async () => {
    const reg = await openRegistry();
    const store = reg.store(pods);
    // An unscheduled pod goes at once.
    await store.create("default", sample(pods, "unscheduled"), ctx);
    assert.equal((await store.delete("default", "unscheduled", {}, ctx)).deleted, true);
    // A scheduled one only gets deletionTimestamp until the kubelet sends grace 0.
    await store.create("default", sample(pods, "running"), ctx);
    await store.bind(
      "default",
      "running",
      { apiVersion: "v1", kind: "Binding", metadata: { name: "running" }, target: { name: "n1" } } as KubeObject,
      ctx,
    );
    const first = await store.delete("default", "running", {}, ctx);
    assert.equal(first.deleted, false);
    assert.ok(first.object.metadata.deletionTimestamp);
    assert.equal(first.object.metadata.deletionGracePeriodSeconds, 30);
    const again = await store.delete("default", "running", {}, ctx);
    assert.equal(again.deleted, false);
    assert.equal(again.object.metadata.resourceVersion, first.object.metadata.resourceVersion);
    // A status update from the kubelet while terminating does not delete it.
    const cur = await store.get("default", "running");
    const st = structuredClone(cur);
    st.status = { phase: "Running" };
    await store.update("default", "running", st, { subresource: "status" });
    await store.get("default", "running");
    assert.equal((await store.delete("default", "running", { gracePeriodSeconds: 0 }, ctx)).deleted, true);
    await assert.rejects(store.get("default", "running"), isNotFound);

    // Finalizers keep an object until the last one is removed by an update.
    const cms = reg.store(configmaps);
    const f = sample(configmaps, "fin");
    f.metadata.finalizers = ["example.com/wait"];
    const created = await cms.create("default", f, ctx);
    await assert.rejects(
      cms.delete("default", "fin", { preconditions: { uid: "wrong" } }, ctx),
      (e) => isConflict(e) && /Precondition failed: UID in precondition: wrong/.test((e as Error).message),
    );
    await assert.rejects(cms.delete("default", "fin", { preconditions: { resourceVersion: "1" } }, ctx), isConflict);
    const d = await cms.delete("default", "fin", { preconditions: { uid: created.metadata.uid } }, ctx);
    assert.equal(d.deleted, false);
    assert.ok(d.object.metadata.deletionTimestamp);
    assert.equal(d.object.metadata.deletionGracePeriodSeconds, 0);
    // Updates cannot clear deletionTimestamp; removing the last finalizer deletes.
    const cleared = structuredClone(d.object);
    delete cleared.metadata.deletionTimestamp;
    cleared.metadata.labels = { x: "y" };
    const kept = await cms.update("default", "fin", cleared, ctx);
    assert.ok(kept.object.metadata.deletionTimestamp);
    const { object: last } = await cms.patch("default", "fin", "merge", { metadata: { finalizers: null } }, ctx);
    assert.ok(last.metadata.deletionTimestamp);
    await assert.rejects(cms.get("default", "fin"), isNotFound);

    // Propagation policies store the GC finalizers.
    await cms.create("default", sample(configmaps, "orphan"), ctx);
    const o = await cms.delete("default", "orphan", { propagationPolicy: "Orphan" }, ctx);
    assert.deepEqual(o.object.metadata.finalizers, ["orphan"]);
    await cms.create("default", sample(configmaps, "fg"), ctx);
    const fg = await cms.delete("default", "fg", { propagationPolicy: "Foreground" }, ctx);
    assert.deepEqual(fg.object.metadata.finalizers, ["foregroundDeletion"]);
    await cms.create("default", sample(configmaps, "bg"), ctx);
    assert.equal((await cms.delete("default", "bg", { propagationPolicy: "Background" }, ctx)).deleted, true);
    // The deprecated orphanDependents; a later delete may switch the policy while finalizers remain.
    await cms.create("default", sample(configmaps, "switch"), ctx);
    const sw = await cms.delete("default", "switch", { orphanDependents: true }, ctx);
    assert.deepEqual(sw.object.metadata.finalizers, ["orphan"]);
    const sw2 = await cms.delete("default", "switch", { propagationPolicy: "Foreground" }, ctx);
    assert.deepEqual(sw2.object.metadata.finalizers, ["foregroundDeletion"]);
    assert.equal(sw2.object.metadata.deletionTimestamp, sw.object.metadata.deletionTimestamp);
    // Once deleting, finalizers may only go away; removing the last one by an update deletes.
    await assert.rejects(
      cms.patch("default", "switch", "merge", { metadata: { finalizers: ["foregroundDeletion", "a.io/b"] } }, ctx),
      (e) => isInvalid(e) && /no new finalizers can be added if the object is being deleted/.test((e as Error).message),
    );
    await cms.patch("default", "switch", "merge", { metadata: { finalizers: null } }, ctx);
    await assert.rejects(cms.get("default", "switch"), isNotFound);
    // Background on an object waiting for Foreground deletes it at once.
    await cms.create("default", sample(configmaps, "fg2"), ctx);
    await cms.delete("default", "fg2", { propagationPolicy: "Foreground" }, ctx);
    assert.equal((await cms.delete("default", "fg2", { propagationPolicy: "Background" }, ctx)).deleted, true);
    // The two garbage-collector finalizers exclude each other.
    const both = sample(configmaps, "both");
    both.metadata.finalizers = ["orphan", "foregroundDeletion"];
    await assert.rejects(cms.create("default", both, ctx), isInvalid);
    // Events never get them (upstream: DefaultGarbageCollectionPolicy Unsupported).
    const evs = reg.store(R("events"));
    await evs.create("default", sample(R("events"), "ev"), ctx);
    assert.equal((await evs.delete("default", "ev", { propagationPolicy: "Foreground" }, ctx)).deleted, true);
    // A pod in its grace period keeps its finalizers as they are (upstream: pendingGraceful).
    const pod = sample(pods, "graceful");
    await store.create("default", pod, ctx);
    await store.bind(
      "default",
      "graceful",
      { apiVersion: "v1", kind: "Binding", metadata: { name: "graceful" }, target: { name: "n1" } } as KubeObject,
      ctx,
    );
    const g1 = await store.delete("default", "graceful", { propagationPolicy: "Foreground" }, ctx);
    assert.deepEqual(g1.object.metadata.finalizers, ["foregroundDeletion"]);
    const g2 = await store.delete("default", "graceful", { propagationPolicy: "Orphan" }, ctx);
    assert.deepEqual(g2.object.metadata.finalizers, ["foregroundDeletion"]);
    // The kubelet's grace 0 leaves it to the finalizer; removing that deletes it.
    const g3 = await store.delete("default", "graceful", { gracePeriodSeconds: 0 }, ctx);
    assert.equal(g3.deleted, false);
    assert.equal(g3.object.metadata.deletionGracePeriodSeconds, 0);
    await store.patch("default", "graceful", "merge", { metadata: { finalizers: null } }, ctx);
    await assert.rejects(store.get("default", "graceful"), isNotFound);
    // dryRun delete leaves it.
    await cms.create("default", sample(configmaps, "dry"), ctx);
    assert.equal((await cms.delete("default", "dry", {}, { dryRun: true })).deleted, true);
    await cms.get("default", "dry");
  });

  test("namespace lifecycle: terminating namespaces refuse new content; finalize removes them", async () => {
    const reg = await openRegistry();
    const nss = reg.store(namespaces);
    const cms = reg.store(configmaps);
    await nss.create(undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: "team" } }, ctx);
    // Created and used at once (the watch cache may not have it yet: the store asks etcd).
    await cms.create("team", sample(configmaps, "c"), ctx);
    const del = await nss.delete(undefined, "team", {}, ctx);
    assert.equal(del.deleted, false);
    assert.equal((del.object as { status?: { phase?: string } }).status?.phase, "Terminating");
    assert.ok(del.object.metadata.deletionTimestamp);
    await assert.rejects(
      cms.create("team", sample(configmaps, "d"), ctx),
      (e) =>
        e instanceof StatusError &&
        e.code === 403 &&
        e.message ===
          'configmaps "d" is forbidden: unable to create new content in namespace team because it is being terminated',
    );
    await assert.rejects(nss.delete(undefined, "default", {}, ctx), (e) => e instanceof StatusError && e.code === 403);
    // The namespace controller empties it and calls finalize: the namespace goes away.
    await cms.delete("team", "c", {}, ctx);
    const ns = await nss.get(undefined, "team");
    const fin = structuredClone(ns) as KubeObject & { spec: { finalizers: string[] } };
    fin.spec.finalizers = [];
    const res = await nss.update(undefined, "team", fin, { subresource: "finalize" });
    assert.equal(res.object.metadata.name, "team");
    await assert.rejects(nss.get(undefined, "team"), isNotFound);
    // A namespace without finalizers at all is removed by delete directly.
    await nss.create(undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: "quick" } }, ctx);
    // The main endpoint cannot change spec.finalizers (upstream); finalize can.
    const quick = structuredClone(await nss.get(undefined, "quick")) as KubeObject & { spec: { finalizers: string[] } };
    quick.spec.finalizers = [];
    await nss.update(undefined, "quick", quick, { subresource: "finalize" });
    assert.equal((await nss.delete(undefined, "quick", {}, ctx)).deleted, true);
  });

  test("scale subresource", async () => {
    const reg = await openRegistry();
    const store = reg.store(deployments);
    await store.create("default", sample(deployments, "web"), ctx);
    const scale = await store.getScale("default", "web");
    assert.equal(scale.kind, "Scale");
    assert.equal(scale.apiVersion, "autoscaling/v1");
    assert.deepEqual(scale.spec, { replicas: 1 });
    assert.deepEqual(scale.status, { replicas: 0, selector: "app=web" });
    const s2 = structuredClone(scale) as KubeObject & { spec: { replicas: number } };
    s2.spec.replicas = 5;
    const after = await store.updateScale("default", "web", s2, ctx);
    assert.deepEqual(after.spec, { replicas: 5 });
    assert.equal(((await store.get("default", "web")) as unknown as { spec: { replicas: number } }).spec.replicas, 5);
    await assert.rejects(store.updateScale("default", "web", s2, ctx), isConflict); // stale resourceVersion
    const p = await store.patchScale("default", "web", "merge", { spec: { replicas: 2 } }, ctx);
    assert.deepEqual(p.spec, { replicas: 2 });
    await assert.rejects(store.patchScale("default", "web", "merge", { spec: { replicas: -1 } }, ctx), isInvalid);
    await assert.rejects(reg.store(configmaps).getScale("default", "x"), isNotFound);
    // A ReplicationController's Scale reads its equality selector.
    const rcs = reg.store(R("replicationcontrollers"));
    await rcs.create("default", sample(R("replicationcontrollers"), "rc"), ctx);
    const rcScale = await rcs.patchScale("default", "rc", "merge", { spec: { replicas: 3 } }, ctx);
    assert.deepEqual(rcScale.spec, { replicas: 3 });
    assert.deepEqual(rcScale.status, { replicas: 0, selector: "app=web" });
  });

  test("ensureKubernetesService: the kubernetes service on the first IP and endpoints to the API server", async () => {
    const reg = await openRegistry({ serviceClusterIPRange: "10.97.0.0/16" });
    await reg.ensureKubernetesService({ address: "127.0.0.1", port: 6443 });
    await reg.ensureKubernetesService({ address: "127.0.0.1", port: 6443 });
    const svc = (await reg.store(services).get("default", "kubernetes")) as KubeObject & {
      spec: { clusterIP: string; ports: Array<{ port: number; targetPort: number }> };
    };
    assert.equal(svc.spec.clusterIP, "10.97.0.1");
    assert.equal(svc.spec.ports[0]?.port, 443);
    await reg.ensureKubernetesService({ address: "127.0.0.2", port: 7443 });
    const ep = (await reg.store(R("endpoints")).get("default", "kubernetes")) as KubeObject & {
      subsets: Array<{ addresses: Array<{ ip: string }>; ports: Array<{ port: number }> }>;
    };
    assert.equal(ep.subsets[0]?.addresses[0]?.ip, "127.0.0.2");
    assert.equal(ep.subsets[0]?.ports[0]?.port, 7443);
    assert.equal(ep.metadata.labels?.["endpointslice.kubernetes.io/skip-mirror"], "true");
    const slice = (await reg.store(R("endpointslices")).get("default", "kubernetes")) as KubeObject & {
      addressType: string;
      endpoints: Array<{ addresses: string[]; conditions: { ready: boolean } }>;
      ports: Array<{ name: string; port: number; protocol: string }>;
    };
    assert.deepEqual(slice.metadata.labels, { "kubernetes.io/service-name": "kubernetes" });
    assert.equal(slice.addressType, "IPv4");
    assert.deepEqual(slice.endpoints, [{ addresses: ["127.0.0.2"], conditions: { ready: true } }]);
    assert.deepEqual(slice.ports, [{ name: "https", port: 7443, protocol: "TCP" }]);
    const rv = slice.metadata.resourceVersion;
    await reg.ensureKubernetesService({ address: "127.0.0.2", port: 7443 });
    assert.equal((await reg.store(R("endpointslices")).get("default", "kubernetes")).metadata.resourceVersion, rv);
  });

  test("events expire after the event TTL (etcd lease)", async () => {
    const reg = await openRegistry({ eventTTLSeconds: 2 });
    const events = reg.store(R("events"));
    const cms = reg.store(configmaps);
    await events.create("default", sample(R("events"), "ev1"), ctx);
    await cms.create("default", sample(configmaps, "stays"), ctx);
    const ac = new AbortController();
    const it = events.watch("default", {}, ac.signal)[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.type, "ADDED");
    const del = await it.next();
    assert.equal(del.value?.type, "DELETED");
    assert.equal(del.value?.object.metadata.name, "ev1");
    await assert.rejects(events.get("default", "ev1"), isNotFound);
    await cms.get("default", "stays");
    ac.abort();
  });

  test("deleteCollection", async () => {
    const reg = await openRegistry();
    const cms = reg.store(configmaps);
    for (let i = 0; i < 10; i++) {
      const o = sample(configmaps, `dc-${i}`);
      o.metadata.labels = { batch: i < 6 ? "a" : "b" };
      await cms.create("default", o, ctx);
    }
    const gone = await cms.deleteCollection("default", { labelSelector: "batch=a" }, {}, ctx);
    assert.equal(gone.items.length, 6);
    const left = await cms.list("default", {});
    assert.deepEqual(
      left.items.map((i) => i.metadata.labels?.batch),
      ["b", "b", "b", "b"],
    );
  });

  test("services: ClusterIP allocation is unique, requested IPs checked, headless, node ports, release on delete", async () => {
    const reg = await openRegistry({ serviceClusterIPRange: "10.100.0.0/24" });
    const svcs = reg.store(services);
    const made = await Promise.all(
      Array.from({ length: 40 }, (_, i) => svcs.create("default", sample(services, `s${i}`), ctx)),
    );
    const ips = made.map((s) => (s as unknown as { spec: { clusterIP: string } }).spec.clusterIP);
    assert.equal(new Set(ips).size, 40);
    for (const ip of ips) {
      assert.match(ip, /^10\.100\.0\.\d+$/);
      assert.notEqual(ip, "10.100.0.1"); // reserved for the kubernetes service
      assert.notEqual(ip, "10.100.0.0");
      assert.notEqual(ip, "10.100.0.255");
    }
    assert.deepEqual((made[0] as unknown as { spec: { clusterIPs: string[] } }).spec.clusterIPs, [ips[0]]);
    // A second API server on the same etcd prefix never hands out the same IPs.
    const other = await Registry.open({
      ...backend.storageFor(reg.storage.prefix),
      prefix: reg.storage.prefix,
      serviceClusterIPRange: "10.100.0.0/24",
      log: silentLogger,
      compactionIntervalMs: 0,
      // Pods here run as no ServiceAccount: nothing makes the accounts (no controller-manager),
      // and nothing would remove the storage protection finalizers.
      admissionPlugins: enabledAdmissionPlugins([], ["ServiceAccount", "StorageObjectInUseProtection"]),
    });
    opened.push(other);
    const both = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? svcs : other.store(services)).create("default", sample(services, `t${i}`), ctx),
      ),
    );
    const all = [...ips, ...both.map((s) => (s as unknown as { spec: { clusterIP: string } }).spec.clusterIP)];
    assert.equal(new Set(all).size, 60);

    const k = await svcs.create("default", sample(services, "kubernetes"), ctx);
    assert.equal((k as unknown as { spec: { clusterIP: string } }).spec.clusterIP, "10.100.0.1");
    const withIP = (name: string, ip: string) => {
      const o = sample(services, name) as KubeObject & { spec: { clusterIP?: string } };
      o.spec.clusterIP = ip;
      return o;
    };
    await assert.rejects(
      svcs.create("default", withIP("fixed", ips[0] as string), ctx),
      (e) =>
        isInvalid(e) &&
        (e as Error).message.includes(
          `spec.clusterIPs: Invalid value: []string{"${ips[0]}"}: failed to allocate IP ${ips[0]}: provided IP is already allocated`,
        ),
    );
    await assert.rejects(
      svcs.create("default", withIP("fixed", "10.0.0.5"), ctx),
      (e) => isInvalid(e) && /not in the valid range/.test((e as Error).message),
    );
    const free = Array.from({ length: 250 }, (_, i) => `10.100.0.${i + 2}`).find((ip) => !all.includes(ip)) as string;
    const fixed = await svcs.create("default", withIP("fixed", free), ctx);
    assert.equal((fixed as unknown as { spec: { clusterIP: string } }).spec.clusterIP, free);
    const headless = sample(services, "headless");
    (headless as unknown as { spec: { clusterIP?: string } }).spec.clusterIP = "None";
    const h = await svcs.create("default", headless, ctx);
    assert.equal((h as unknown as { spec: { clusterIP: string } }).spec.clusterIP, "None");

    // Update may not change clusterIP; a replace without one keeps it.
    const s0 = structuredClone(made[0]) as KubeObject & { spec: { clusterIP?: string; clusterIPs?: string[] } };
    s0.spec.clusterIP = "10.100.0.250";
    delete s0.spec.clusterIPs;
    await assert.rejects(
      svcs.update("default", "s0", s0, ctx),
      (e) =>
        isInvalid(e) &&
        (e as Error).message.includes(
          'spec.clusterIPs[0]: Invalid value: []string{"10.100.0.250"}: may not change once set',
        ),
    );
    delete s0.spec.clusterIP;
    s0.metadata.labels = { relabelled: "yes" };
    const kept = await svcs.update("default", "s0", s0, ctx);
    assert.equal((kept.object as unknown as { spec: { clusterIP: string } }).spec.clusterIP, ips[0]);

    // NodePort: allocated in range, kept on update, unique, released when the type changes back.
    const np = sample(services, "np");
    (np as unknown as { spec: { type?: string } }).spec.type = "NodePort";
    const npSvc = (await svcs.create("default", np, ctx)) as KubeObject & {
      spec: { ports: Array<{ nodePort: number }> };
    };
    const port = npSvc.spec.ports[0]?.nodePort ?? 0;
    assert.ok(port >= 30000 && port <= 32767, String(port));
    const np2 = sample(services, "np2") as KubeObject & {
      spec: { type?: string; ports: Array<{ nodePort?: number }> };
    };
    np2.spec.type = "NodePort";
    (np2.spec.ports[0] as { nodePort?: number }).nodePort = port;
    await assert.rejects(
      svcs.create("default", np2, ctx),
      (e) =>
        isInvalid(e) &&
        (e as Error).message.includes(
          `spec.ports[0].nodePort: Invalid value: ${port}: provided port is already allocated`,
        ),
    );
    const relabel = await svcs.patch("default", "np", "merge", { metadata: { labels: { a: "b" } } }, ctx);
    assert.equal((relabel.object as typeof npSvc).spec.ports[0]?.nodePort, port);
    await svcs.patch("default", "np", "merge", { spec: { type: "ClusterIP" } }, ctx);
    assert.equal((await reg.allocator.allocatedNodePorts()).has(port), false);

    // Delete releases the IP.
    assert.equal((await reg.allocator.allocatedIPs()).has(ips[1] as string), true);
    await svcs.delete("default", "s1", {}, ctx);
    assert.equal((await reg.allocator.allocatedIPs()).has(ips[1] as string), false);
    // Repair frees leaked allocations (old enough) and re-records missing ones.
    const ipPrefix = `${reg.storage.prefix}/ipallocations/`;
    const taken = await reg.allocator.allocatedIPs();
    const [leak, young] = Array.from({ length: 250 }, (_, i) => `10.100.0.${i + 2}`).filter((ip) => !taken.has(ip));
    assert.ok(leak && young);
    await reg.storage.createKeyIfAbsent(`${ipPrefix}${leak}`, allocationValue("default/ghost", Date.now() - 120_000));
    await reg.storage.createKeyIfAbsent(`${ipPrefix}${young}`, allocationValue("default/young"));
    await reg.storage.deleteKey(`${ipPrefix}${ips[2]}`);
    await waitFor(() => reg.watchCache.for(services).get("default", "s1") === undefined);
    const repaired = await reg.allocator.repair(reg.watchCache.for(services).list(undefined));
    assert.deepEqual(repaired.releasedIPs, [leak]);
    assert.deepEqual(repaired.restoredIPs, [ips[2]]);
    const afterRepair = await reg.allocator.allocatedIPs();
    assert.equal(afterRepair.get(ips[2] as string), "default/s2");
    assert.equal(afterRepair.has(young), true);
    assert.equal(afterRepair.has(leak), false);
    // A failed create releases what it allocated.
    const before = (await reg.allocator.allocatedIPs()).size;
    await assert.rejects(svcs.create("default", sample(services, "s2"), ctx), isAlreadyExists);
    assert.equal((await reg.allocator.allocatedIPs()).size, before);
  });
}
