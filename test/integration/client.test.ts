// The client library against the real kubeling-apiserver (real etcd): REST verbs and Status
// errors, informers (list+watch, handlers, relist tombstones), leader election between two
// electors, and event folding.

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { type AddressInfo, connect, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isAlreadyExists, isConflict, isNotFound, StatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { CONFIGMAPS, EVENTS, LEASES, NAMESPACES } from "#pkg/api/resources.js";
import { microTime } from "#pkg/api/time.js";
import type { Lease } from "#pkg/api/types/coordination.js";
import type { Event } from "#pkg/api/types/core.js";
import { Informer, isTombstone } from "#pkg/cache/informer.js";
import { ApiClient } from "#pkg/client/client.js";
import { type ResumableEvent, watchWithResume } from "#pkg/client/watch.js";
import { EventRecorder } from "#pkg/controller/events.js";
import { LeaderElector } from "#pkg/controller/leader.js";
import { ensureClusterPki, readCA } from "#pkg/pki/cluster.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { waitFor } from "../harness/wait.js";

let api: TestApiServer;
let client: ApiClient;
const NS = "client-it";

before(async () => {
  api = await startApiServer();
  client = ApiClient.fromKubeconfig({ path: api.kubeconfigPath });
  await client.create(NAMESPACES, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
});
after(async () => {
  await client?.close();
  await api?.stop();
});

function cm(name: string, data: Record<string, string> = {}): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: NS, labels: { app: "it" } }, data };
}

describe("ApiClient against the apiserver", () => {
  test("CRUD, patch flavours and Status errors", async () => {
    const created = await client.create(CONFIGMAPS, NS, cm("crud", { a: "1" }));
    assert.ok(created.metadata.resourceVersion);
    await assert.rejects(client.create(CONFIGMAPS, NS, cm("crud")), (e: unknown) => isAlreadyExists(e));
    const merged = await client.patch(CONFIGMAPS, NS, "crud", { data: { b: "2" } }, "merge");
    assert.deepEqual(merged.data, { a: "1", b: "2" });
    const jp = await client.patch(CONFIGMAPS, NS, "crud", [{ op: "remove", path: "/data/a" }], "json");
    assert.deepEqual(jp.data, { b: "2" });
    const stale = { ...created, data: { x: "y" } };
    await assert.rejects(client.update(CONFIGMAPS, NS, stale), (e: unknown) => isConflict(e));
    await client.delete(CONFIGMAPS, NS, "crud");
    await assert.rejects(client.get(CONFIGMAPS, NS, "crud"), (e: unknown) => {
      assert.ok(e instanceof StatusError && isNotFound(e));
      assert.match(e.message, /configmaps "crud" not found/);
      return true;
    });
  });

  test("server-side apply sends apply-patch+yaml with a field manager", async () => {
    const applied = await client.patch(CONFIGMAPS, NS, "ssa", cm("ssa", { k: "v" }), "apply", {
      fieldManager: "it",
      force: true,
    });
    assert.deepEqual(applied.data, { k: "v" });
  });

  test("table returns a Table", async () => {
    await client.create(CONFIGMAPS, NS, cm("tbl"));
    const t = await client.table(CONFIGMAPS, NS, {});
    assert.equal(t.kind, "Table");
    assert.ok(t.rows.length >= 1);
  });

  test("watchWithResume lists then streams changes", async () => {
    const ac = new AbortController();
    const got: ResumableEvent<KubeObject>[] = [];
    const done = (async () => {
      for await (const ev of watchWithResume(client, CONFIGMAPS, NS, { labelSelector: "app=watch" }, ac.signal)) {
        got.push(ev);
      }
    })();
    await waitFor(() => got.length >= 1, { message: "initial RELIST" });
    assert.equal(got[0]?.type, "RELIST");
    await client.create(CONFIGMAPS, NS, {
      ...cm("w1"),
      metadata: { name: "w1", namespace: NS, labels: { app: "watch" } },
    });
    await client.delete(CONFIGMAPS, NS, "w1");
    await waitFor(() => got.some((e) => e.type === "DELETED"), { message: "DELETED event" });
    assert.deepEqual(
      got.filter((e) => e.type !== "BOOKMARK").map((e) => e.type),
      ["RELIST", "ADDED", "DELETED"],
    );
    ac.abort();
    await done;
  });
});

describe("Informer against the apiserver", () => {
  test("sees adds, updates and deletes; list items carry kind/apiVersion", async () => {
    await client.create(CONFIGMAPS, NS, {
      ...cm("pre"),
      metadata: { name: "pre", namespace: NS, labels: { app: "inf" } },
    });
    const inf = new Informer<KubeObject>(client, CONFIGMAPS, { namespace: NS, labelSelector: "app=inf" });
    const seen: string[] = [];
    inf.on("add", (o) => seen.push(`add ${o.metadata.name}`));
    inf.on("update", (_o, n) => seen.push(`update ${n.metadata.name} ${JSON.stringify(n.data)}`));
    inf.on("delete", (o) => seen.push(`delete ${isTombstone(o) ? o.key : o.metadata.name}`));
    const ac = new AbortController();
    const running = inf.run(ac.signal);
    await inf.waitForSync(ac.signal);
    assert.equal(inf.get(`${NS}/pre`)?.kind, "ConfigMap");
    assert.equal(inf.get(`${NS}/pre`)?.apiVersion, "v1");
    await client.create(CONFIGMAPS, NS, { ...cm("x"), metadata: { name: "x", namespace: NS, labels: { app: "inf" } } });
    await client.patch(CONFIGMAPS, NS, "x", { data: { v: "2" } }, "merge");
    await client.delete(CONFIGMAPS, NS, "x");
    await waitFor(() => seen.includes("delete x"), { message: "delete x" });
    assert.deepEqual(seen, ["add pre", "add x", 'update x {"v":"2"}', "delete x"]);
    assert.equal(inf.byIndex("namespace", NS).length, 1);
    ac.abort();
    await running;
  });
});

describe("LeaderElector against the apiserver", () => {
  const opts = { namespace: NS, leaseDurationSeconds: 2, renewDeadlineSeconds: 1, retryPeriodSeconds: 0.1 };

  test("one of two electors leads; on release the other takes over", async () => {
    const name = "two-electors";
    const acA = new AbortController();
    const acB = new AbortController();
    const state: Record<string, string> = {};
    const cb = (id: string) => ({
      onStartedLeading: (signal: AbortSignal) => {
        state[id] = "leading";
        signal.addEventListener("abort", () => {
          state[id] = "stopped";
        });
      },
      onStoppedLeading: () => {
        state[id] = "stopped-cb";
      },
    });
    const a = new LeaderElector(client, { ...opts, name, identity: "a" });
    const runA = a.run(acA.signal, cb("a"));
    await waitFor(() => state.a === "leading", { message: "a leading" });
    const b = new LeaderElector(client, { ...opts, name, identity: "b" });
    const runB = b.run(acB.signal, cb("b"));
    await waitFor(() => b.getLeader() === "a", { message: "b observes a" });
    // b must stay a follower while a renews (well past a lease duration).
    const until = Date.now() + 2500;
    await waitFor(() => Date.now() > until || state.b === "leading", { timeoutMs: 5000, message: "b waiting" });
    assert.equal(state.b, undefined, "b must not lead while a renews");
    assert.ok(a.isLeader());

    acA.abort();
    await runA;
    assert.equal(state.a, "stopped-cb");
    await waitFor(() => state.b === "leading", { timeoutMs: 5000, message: "b takes over after a releases" });
    const lease = await client.get<Lease>(LEASES, NS, name);
    assert.equal(lease.spec?.holderIdentity, "b");
    assert.equal(lease.spec?.leaseTransitions, 1);
    acB.abort();
    await runB;
  });

  test("takes over a lease whose holder stopped renewing", async () => {
    const name = "stale";
    const now = Date.now();
    await client.create(LEASES, NS, {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name, namespace: NS },
      spec: {
        holderIdentity: "ghost",
        leaseDurationSeconds: 2,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: 3,
      },
    });
    const ac = new AbortController();
    let leadingAt = 0;
    const e = new LeaderElector(client, { ...opts, name, identity: "c" });
    const run = e.run(ac.signal, {
      onStartedLeading: () => {
        leadingAt = Date.now();
      },
    });
    await waitFor(() => leadingAt > 0, { timeoutMs: 8000, message: "c acquires the stale lease" });
    assert.ok(leadingAt - now >= 1900, `took over after ${leadingAt - now} ms, before the lease expired`);
    const lease = await client.get<Lease>(LEASES, NS, name);
    assert.equal(lease.spec?.holderIdentity, "c");
    assert.equal(lease.spec?.leaseTransitions, 4);
    ac.abort();
    await run;
    const released = await client.get<Lease>(LEASES, NS, name);
    assert.equal(released.spec?.holderIdentity ?? "", "", "released on shutdown");
  });
});

describe("EventRecorder against the apiserver", () => {
  test("folds repeats into one Event with a count; cluster-scoped objects go to default", async () => {
    const obj = await client.create(CONFIGMAPS, NS, cm("evt"));
    const rec = new EventRecorder(client, { component: "it-controller", host: "host1" });
    for (let i = 0; i < 3; i++) rec.event(obj, "Warning", "BackOff", "Back-off restarting failed container");
    rec.event(obj, "Normal", "Synced", "synced ok");
    const node = { apiVersion: "v1", kind: "Node", metadata: { name: "n-events", uid: "u-node" } };
    rec.event(node, "Normal", "Starting", "Starting kubelet.");
    await rec.flush();

    const list = await client.list<Event>(EVENTS, NS);
    const mine = list.items.filter((e) => e.involvedObject.name === "evt");
    assert.equal(mine.length, 2);
    const backoff = mine.find((e) => e.reason === "BackOff")!;
    assert.equal(backoff.count, 3);
    assert.equal(backoff.type, "Warning");
    assert.equal(backoff.source?.component, "it-controller");
    assert.equal(backoff.source?.host, "host1");
    assert.equal(backoff.reportingComponent, "it-controller");
    assert.deepEqual(
      {
        kind: backoff.involvedObject.kind,
        name: backoff.involvedObject.name,
        namespace: backoff.involvedObject.namespace,
        uid: backoff.involvedObject.uid,
        apiVersion: backoff.involvedObject.apiVersion,
      },
      { kind: "ConfigMap", name: "evt", namespace: NS, uid: obj.metadata.uid, apiVersion: "v1" },
    );
    assert.ok(backoff.firstTimestamp && backoff.lastTimestamp);
    assert.ok(backoff.metadata.name?.startsWith("evt."));

    const nodeEvents = (await client.list<Event>(EVENTS, "default")).items.filter(
      (e) => e.involvedObject.name === "n-events",
    );
    assert.equal(nodeEvents.length, 1);
    assert.equal(nodeEvents[0]?.involvedObject.kind, "Node");
  });
});

/** A TCP proxy to 127.0.0.1:<target> whose connections can be cut and whose target can change. */
async function startProxy(target: number) {
  const sockets = new Set<Socket>();
  const state = { target };
  const server = createServer((inbound) => {
    const outbound = connect(state.target, "127.0.0.1");
    sockets.add(inbound);
    sockets.add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    const cleanup = () => {
      inbound.destroy();
      outbound.destroy();
      sockets.delete(inbound);
      sockets.delete(outbound);
    };
    inbound.on("error", cleanup).on("close", cleanup);
    outbound.on("error", cleanup).on("close", cleanup);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as AddressInfo).port,
    get target() {
      return state.target;
    },
    set target(port: number) {
      state.target = port;
    },
    cut() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe("watch resilience against the apiserver", () => {
  test("an informer whose apiserver restarts re-lists on 410 and delivers tombstones for missed deletes", async () => {
    // One PKI and token for both servers, so successive apiserver processes look the same to the client.
    const dir = await mkdtemp(join(tmpdir(), "client-it-"));
    const pkiDir = join(dir, "pki");
    const token = randomBytes(12).toString("hex");
    await writeFile(join(dir, "tokens.csv"), `${token},admin,admin,"system:masters"\n`);
    const extraArgs = [`--token-auth-file=${join(dir, "tokens.csv")}`];
    const proxy = await startProxy(Number(new URL(api.url).port));
    let second: TestApiServer | undefined;
    let third: TestApiServer | undefined;
    const caPem = readCA(await ensureClusterPki({ dir: pkiDir, nodes: [] })).cert;
    const proxied = new ApiClient({ server: `https://127.0.0.1:${proxy.port}`, token, caPem });
    const ac = new AbortController();
    try {
      second = await startApiServer({ etcd: api.etcd, prefix: api.prefix, pkiDir, extraArgs });
      proxy.target = Number(new URL(second.url).port);
      const mk = (name: string) =>
        client.create(CONFIGMAPS, NS, { ...cm(name), metadata: { name, namespace: NS, labels: { app: "restart" } } });
      await mk("r1");
      await mk("r2");
      const inf = new Informer<KubeObject>(proxied, CONFIGMAPS, {
        namespace: NS,
        labelSelector: "app=restart",
        backoff: { initialMs: 50, maxMs: 200 },
      });
      const seen: string[] = [];
      inf.on("add", (o) => seen.push(`add ${o.metadata.name}`));
      inf.on("delete", (o) => seen.push(isTombstone(o) ? `tombstone ${o.key}` : `delete ${o.metadata.name}`));
      const running = inf.run(ac.signal);
      await inf.waitForSync(ac.signal);
      await mk("r3");
      await waitFor(() => seen.includes("add r3"), { message: "r3 through the second apiserver" });

      // The apiserver goes away; meanwhile r1 is deleted and r4 created (through the first one).
      await second.stop();
      second = undefined;
      await client.delete(CONFIGMAPS, NS, "r1");
      await mk("r4");
      // A new apiserver's watch cache starts now: the informer's resourceVersion is too old (410).
      third = await startApiServer({ etcd: api.etcd, prefix: api.prefix, pkiDir, extraArgs });
      proxy.target = Number(new URL(third.url).port);
      await waitFor(() => seen.includes("add r4"), { timeoutMs: 15_000, message: "relist after the restart" });
      assert.deepEqual(seen, ["add r1", "add r2", "add r3", `tombstone ${NS}/r1`, "add r4"]);
      assert.deepEqual(
        inf
          .list()
          .map((o) => o.metadata.name)
          .sort(),
        ["r2", "r3", "r4"],
      );
      ac.abort();
      await running;
    } finally {
      ac.abort();
      await proxied.close();
      await proxy.close();
      await second?.stop();
      await third?.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("an informer behind a proxy that drops connections resumes without losing events", async () => {
    const proxy = await startProxy(Number(new URL(api.url).port));
    const proxied = new ApiClient({ ...client.config, server: `https://127.0.0.1:${proxy.port}` });
    const ac = new AbortController();
    try {
      const inf = new Informer<KubeObject>(proxied, CONFIGMAPS, {
        namespace: NS,
        labelSelector: "app=drop",
        backoff: { initialMs: 50, maxMs: 200 },
      });
      const adds: string[] = [];
      inf.on("add", (o) => adds.push(o.metadata.name!));
      const running = inf.run(ac.signal);
      await inf.waitForSync(ac.signal);
      const mk = (name: string) =>
        client.create(CONFIGMAPS, NS, { ...cm(name), metadata: { name, namespace: NS, labels: { app: "drop" } } });
      await mk("d1");
      await waitFor(() => adds.includes("d1"), { message: "d1 via the proxy" });
      const rvBefore = inf.lastSyncResourceVersion;
      // Cut every connection, and write while the informer is disconnected.
      proxy.cut();
      await mk("d2");
      await mk("d3");
      await waitFor(() => adds.includes("d2") && adds.includes("d3"), { message: "events written during the drop" });
      assert.deepEqual(adds, ["d1", "d2", "d3"]);
      assert.ok(Number(inf.lastSyncResourceVersion) > Number(rvBefore));
      ac.abort();
      await running;
    } finally {
      ac.abort();
      await proxied.close();
      await proxy.close();
    }
  });
});
