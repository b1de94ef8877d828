// The in-memory storage keeps etcd's semantics (test/integration/storage-etcd.test.ts checks the
// same against a real etcd), and the watch cache works over it.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isAlreadyExists, isConflict, isGone, isNotFound, StatusError } from "#pkg/api/errors.js";
import type { KubeObject, WatchEvent } from "#pkg/api/meta.js";
import { BUILTIN_RESOURCES } from "#pkg/api/resources.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { waitFor } from "../../test/harness/wait.js";
import { DELETE, type KeyEvent, NO_CHANGE, type ObjectRef } from "./interfaces.js";
import { MemoryStorage } from "./memory.js";
import { WatchCache } from "./watch-cache.js";

const cm = { group: "", resource: "configmaps" };
const ref = (name: string, namespace = "default"): ObjectRef => ({ r: cm, namespace, name });
const obj = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default", ...(labels ? { labels } : {}) },
  data,
});
const bump = (i: number) => (cur: { obj: KubeObject } | undefined) => ({
  ...(cur as { obj: KubeObject }).obj,
  data: { i: String(i) },
});

async function take(it: AsyncIterator<WatchEvent>, count: number): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  while (out.length < count) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

describe("MemoryStorage", () => {
  test("create, get, AlreadyExists, key layout, revisions as etcd's", async () => {
    const s = new MemoryStorage({ prefix: "/t" });
    assert.equal(await s.currentRevision(), 1);
    const created = await s.create(ref("a"), obj("a", { k: "v" }));
    assert.equal(created.rev, 2);
    assert.equal(created.obj.metadata.resourceVersion, "2");
    await assert.rejects(
      s.create(ref("a"), obj("a")),
      (e) => isAlreadyExists(e) && /configmaps "a" already exists/.test((e as Error).message),
    );
    const got = await s.get(ref("a"));
    assert.deepEqual(got?.obj.data, { k: "v" });
    assert.equal(got?.rev, created.rev);
    assert.equal(await s.get(ref("missing")), undefined);
    const raw = await s.rawList("/t/configmaps/default/");
    assert.equal(raw[0]?.key, "/t/configmaps/default/a");
    assert.equal(JSON.parse(raw[0]?.value ?? "{}").metadata.resourceVersion, undefined);
    assert.equal(s.key({ r: { group: "", resource: "nodes" }, name: "n1" }), "/t/nodes/n1");
    await assert.rejects(
      s.create(ref("big"), obj("big", { blob: "x".repeat(1.6 * 1024 * 1024) })),
      (e) => e instanceof StatusError && e.code === 413,
    );
  });

  test("concurrent updaters: with a precondition each lands or gets 409; without, all land", async () => {
    const s = new MemoryStorage();
    await s.create(ref("counter"), obj("counter", { n: "0" }));
    const inc = (cur: { obj: KubeObject } | undefined) => {
      const next = structuredClone((cur as { obj: KubeObject }).obj);
      next.data = { n: String(Number((next.data as { n: string }).n) + 1) };
      return next;
    };
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, async () => {
        const mine = await s.get(ref("counter"));
        await new Promise((r) => setImmediate(r));
        return s.guaranteedUpdate(ref("counter"), async (cur) => {
          await new Promise((r) => setImmediate(r));
          if (cur?.rev !== mine?.rev) throw new StatusError(409, "Conflict", "stale");
          return inc(cur);
        });
      }),
    );
    const ok = results.filter((r) => r.status === "fulfilled").length;
    for (const r of results) if (r.status === "rejected") assert.ok(isConflict(r.reason), String(r.reason));
    assert.ok(ok >= 1 && ok < 20, String(ok));
    await Promise.all(
      Array.from({ length: 20 }, () =>
        s.guaranteedUpdate(ref("counter"), async (cur) => {
          await new Promise((r) => setImmediate(r));
          return inc(cur);
        }),
      ),
    );
    const final = await s.get(ref("counter"));
    assert.equal((final?.obj.data as { n?: string } | undefined)?.n, String(ok + 20));
  });

  test("guaranteedUpdate: NO_CHANGE and same content write nothing, DELETE deletes, allowCreate, stale suggestion", async () => {
    const s = new MemoryStorage();
    const c = await s.create(ref("x"), obj("x"));
    const same = await s.guaranteedUpdate(ref("x"), () => NO_CHANGE);
    assert.equal(same.written, false);
    const sameContent = await s.guaranteedUpdate(ref("x"), (cur) => structuredClone((cur as { obj: KubeObject }).obj));
    assert.equal(sameContent.written, false);
    assert.equal(await s.currentRevision(), c.rev);
    const del = await s.guaranteedUpdate(ref("x"), () => DELETE);
    assert.equal(del.deleted, true);
    assert.equal(del.obj.metadata.resourceVersion, String(del.rev));
    await assert.rejects(
      s.guaranteedUpdate(ref("x"), () => NO_CHANGE),
      isNotFound,
    );
    await assert.rejects(s.delete(ref("x")), isNotFound);
    const made = await s.guaranteedUpdate(ref("y"), (cur) => (cur ? NO_CHANGE : obj("y")), { allowCreate: true });
    assert.equal(made.created, true);
    await s.guaranteedUpdate(ref("y"), bump(1));
    const r = await s.guaranteedUpdate(ref("y"), bump(2), { suggestion: { obj: made.obj, rev: made.rev } });
    assert.equal(r.written, true);
    assert.deepEqual((await s.get(ref("y")))?.obj.data, { i: "2" });
    const dry = await s.guaranteedUpdate(ref("y"), bump(3), { dryRun: true });
    assert.equal(dry.written, false);
    assert.deepEqual((await s.get(ref("y")))?.obj.data, { i: "2" });
    await assert.rejects(
      s.delete(ref("y"), {
        validate: () => {
          throw new StatusError(409, "Conflict", "no");
        },
      }),
      isConflict,
    );
    assert.equal((await s.delete(ref("y"))).deleted, true);
  });

  test("paging at the first page's revision, remainingItemCount, filters fill pages", async () => {
    const s = new MemoryStorage();
    const names = Array.from({ length: 300 }, (_, i) => `o-${String(i).padStart(4, "0")}`);
    for (const [i, nm] of names.entries()) await s.create(ref(nm), obj(nm, {}, { parity: String(i % 2) }));
    const seen = new Set<string>();
    let token: string | undefined;
    let rev = 0;
    let adder = 0;
    do {
      const page = await s.list({ prefix: s.listPrefix(cm, "default"), limit: 37, continue: token });
      if (rev === 0) rev = page.rev;
      assert.equal(page.rev, rev);
      for (const it of page.items) {
        assert.ok(!seen.has(it.obj.metadata.name ?? ""));
        seen.add(it.obj.metadata.name ?? "");
      }
      if (page.continue) assert.equal(page.remainingItemCount, 300 - seen.size);
      token = page.continue;
      await s.create(ref(`o-0150-new-${adder}`), obj(`o-0150-new-${adder++}`));
    } while (token);
    assert.equal(seen.size, 300);
    const odd = await s.list({
      prefix: s.listPrefix(cm, "default"),
      limit: 50,
      filter: (o) => o.metadata.labels?.parity === "1",
    });
    assert.equal(odd.items.length, 50);
    assert.ok(odd.continue);
    assert.equal((await s.list({ prefix: s.listPrefix(cm) })).items.length, 300 + adder);
    // A read at an older revision sees the older state.
    assert.equal((await s.list({ prefix: s.listPrefix(cm), revision: rev })).items.length, 300);
    await assert.rejects(
      s.get(ref("o-0000"), (await s.currentRevision()) + 10),
      (e) => e instanceof StatusError && e.code === 504,
    );
  });

  test("a compacted revision answers 410 (continue, read at revision, watch from it)", async () => {
    const s = new MemoryStorage();
    for (let i = 0; i < 5; i++) await s.create(ref(`c${i}`), obj(`c${i}`));
    const page = await s.list({ prefix: s.listPrefix(cm, "default"), limit: 2 });
    for (let i = 0; i < 5; i++) await s.guaranteedUpdate(ref(`c${i}`), bump(i));
    await s.guaranteedUpdate(ref("c4"), () => DELETE);
    await s.compact(await s.currentRevision());
    await assert.rejects(
      s.list({ prefix: s.listPrefix(cm, "default"), limit: 2, continue: page.continue }),
      (e) => isGone(e) && /continue parameter is too old/.test((e as Error).message),
    );
    await assert.rejects(s.get(ref("c0"), page.rev), isGone);
    // The state at the compaction revision stays readable.
    const now = await s.list({ prefix: s.listPrefix(cm, "default") });
    assert.deepEqual(
      now.items.map((i) => i.obj.data),
      [0, 1, 2, 3].map((i) => ({ i: String(i) })),
    );
    const compacted = await new Promise<number>((resolve) => {
      const w = s.watchPrefix(
        `${s.prefix}/`,
        page.rev,
        { onEvents: () => {}, onProgress: () => {}, onCompacted: resolve },
        silentLogger,
      );
      w.start();
    });
    assert.equal(compacted, await s.currentRevision());
  });

  test("prefix watches replay from a revision, then follow, in revision order; progress reports the revision", async () => {
    const s = new MemoryStorage();
    const a = await s.create(ref("a"), obj("a"));
    await s.guaranteedUpdate(ref("a"), bump(1));
    await s.createKeyIfAbsent("/elsewhere/k", "v");
    const seen: KeyEvent[] = [];
    let progress = 0;
    const w = s.watchPrefix(
      "/registry/",
      a.rev - 1,
      { onEvents: (evs) => seen.push(...evs), onProgress: (r) => (progress = r), onCompacted: () => {} },
      silentLogger,
    );
    w.start();
    await s.guaranteedUpdate(ref("a"), () => DELETE);
    await waitFor(() => seen.length === 3, { intervalMs: 2 });
    assert.deepEqual(
      seen.map((e) => e.type),
      ["Put", "Put", "Delete"],
    );
    w.requestProgress();
    await waitFor(() => progress === 5, { intervalMs: 2 });
    w.stop();
    await s.create(ref("b"), obj("b"));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(seen.length, 3);
  });

  test("raw keys and expiring writes", async () => {
    const s = new MemoryStorage();
    assert.equal(await s.createKeyIfAbsent("/registry/ipallocations/10.0.0.1", "x"), true);
    assert.equal(await s.createKeyIfAbsent("/registry/ipallocations/10.0.0.1", "y"), false);
    assert.equal(await s.deleteKeyIfValue("/registry/ipallocations/10.0.0.1", "y"), false);
    assert.equal(await s.deleteKeyIfValue("/registry/ipallocations/10.0.0.1", "x"), true);
    assert.equal(await s.deleteKey("/registry/ipallocations/10.0.0.1"), false);
    await s.create(ref("short"), obj("short"), { ttlSeconds: 0.02 });
    await s.create(ref("kept"), obj("kept"), { ttlSeconds: 0.02 });
    await s.guaranteedUpdate(ref("kept"), bump(1)); // a later write without a TTL keeps the key
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(await s.get(ref("short")), undefined);
    assert.ok(await s.get(ref("kept")));
    s.close();
  });
});

describe("WatchCache over MemoryStorage", () => {
  test("starts from the existing state, delivers every change in order, resumes, 410 before its history", async () => {
    const s = new MemoryStorage();
    await s.create(ref("pre"), obj("pre"));
    const cache = new WatchCache({
      storage: s,
      resources: BUILTIN_RESOURCES,
      log: silentLogger,
      historyCapacity: 5,
      historyRetentionMs: 0,
    });
    await cache.start();
    try {
      const cms = cache.for(cm);
      assert.equal(cms.size, 1);
      const start = cache.rev;
      const ac = new AbortController();
      const it = cms.watch({ signal: ac.signal })[Symbol.asyncIterator]();
      assert.equal((await take(it, 1))[0]?.object.metadata.name, "pre");
      const revs = [(await s.create(ref("w"), obj("w"))).rev];
      for (let i = 0; i < 4; i++) revs.push((await s.guaranteedUpdate(ref("w"), bump(i))).rev);
      revs.push((await s.guaranteedUpdate(ref("w"), () => DELETE)).rev);
      const evs = await take(it, 6);
      assert.deepEqual(
        evs.map((e) => e.type),
        ["ADDED", "MODIFIED", "MODIFIED", "MODIFIED", "MODIFIED", "DELETED"],
      );
      assert.deepEqual(
        evs.map((e) => Number(e.object.metadata.resourceVersion)),
        revs,
      );
      ac.abort();
      assert.equal((await it.next()).done, true);
      const it2 = cms.watch({ fromRev: revs[2] })[Symbol.asyncIterator]();
      assert.deepEqual(
        (await take(it2, 3)).map((e) => Number(e.object.metadata.resourceVersion)),
        revs.slice(3),
      );
      await it2.return?.();
      const old = cms.watch({ fromRev: start })[Symbol.asyncIterator]();
      await assert.rejects(old.next(), (e) => isGone(e) && /too old resource version/.test((e as Error).message));
      // A consistent read point waits for the cache to catch up with the storage.
      await s.createKeyIfAbsent("/registry/ipallocations/x", "y");
      assert.equal(await cache.sync(), await s.currentRevision());
    } finally {
      cache.stop();
    }
  });

  test("a resync re-lists and ends current watchers with 410", async () => {
    const s = new MemoryStorage();
    await s.create(ref("a"), obj("a"));
    const cache = new WatchCache({ storage: s, resources: BUILTIN_RESOURCES, log: silentLogger });
    await cache.start();
    try {
      const it = cache.for(cm).watch({ fromRev: cache.rev })[Symbol.asyncIterator]();
      const pending = it.next();
      await s.guaranteedUpdate(ref("a"), bump(2));
      assert.equal((await pending).value?.type, "MODIFIED");
      const next = it.next();
      await cache.resync();
      await assert.rejects(next, isGone);
      await s.create(ref("b"), obj("b"));
      await waitFor(() => cache.for(cm).get("default", "b"));
    } finally {
      cache.stop();
    }
  });
});
