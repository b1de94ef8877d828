// The etcd storage layer and the watch cache against a real etcd.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { decodeContinue, encodeContinue } from "../../apiserver/storage/codec.js";
import { EtcdStorage } from "../../apiserver/storage/etcd.js";
import { PrefixWatch } from "../../apiserver/storage/etcd-watch.js";
import { DELETE, NO_CHANGE, type ObjectRef } from "../../apiserver/storage/interfaces.js";
import { WatchCache } from "../../apiserver/storage/watch-cache.js";
import { isAlreadyExists, isConflict, isGone, isNotFound, StatusError } from "../../pkg/api/errors.js";
import type { KubeObject, WatchEvent } from "../../pkg/api/meta.js";
import { BUILTIN_RESOURCES } from "../../pkg/api/resources.js";
import { silentLogger } from "../../pkg/runtime/log.js";
import { startEtcd, type TestEtcd } from "../harness/etcd.js";
import { waitFor } from "../harness/wait.js";

const cm = { group: "", resource: "configmaps" };
const ref = (name: string, namespace = "default"): ObjectRef => ({ r: cm, namespace, name });
const obj = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "default", ...(labels ? { labels } : {}) },
  data,
});

let etcd: TestEtcd;
let n = 0;
const storages: EtcdStorage[] = [];
function newStorage(): EtcdStorage {
  const s = new EtcdStorage({ endpoints: [etcd.endpoint], prefix: `/t${++n}-${process.pid}`, log: silentLogger });
  storages.push(s);
  return s;
}

before(async () => {
  etcd = await startEtcd();
});
after(async () => {
  for (const s of storages) s.close();
  await etcd.stop();
});

describe("EtcdStorage", () => {
  test("create, get, AlreadyExists, key layout", async () => {
    const s = newStorage();
    const created = await s.create(ref("a"), obj("a", { k: "v" }));
    assert.ok(created.rev > 0);
    assert.equal(created.obj.metadata.resourceVersion, String(created.rev));
    await assert.rejects(
      s.create(ref("a"), obj("a")),
      (e) => isAlreadyExists(e) && /configmaps "a" already exists/.test((e as Error).message),
    );
    const got = await s.get(ref("a"));
    assert.deepEqual(got?.obj.data, { k: "v" });
    assert.equal(got?.rev, created.rev);
    assert.equal(await s.get(ref("missing")), undefined);
    // The stored JSON has no resourceVersion; the key is {prefix}/{resource}/{ns}/{name}.
    const raw = await s.rawList(`${s.prefix}/configmaps/default/`);
    assert.equal(raw.length, 1);
    assert.equal(raw[0]?.key, `${s.prefix}/configmaps/default/a`);
    assert.equal(JSON.parse(raw[0]?.value ?? "{}").metadata.resourceVersion, undefined);
    assert.equal(s.key({ r: { group: "", resource: "nodes" }, name: "n1" }), `${s.prefix}/nodes/n1`);
  });

  test("objects over 1.5 MiB are refused with 413 before reaching etcd", async () => {
    const s = newStorage();
    const big = obj("big", { blob: "x".repeat(1.6 * 1024 * 1024) });
    await assert.rejects(s.create(ref("big"), big), (e) => e instanceof StatusError && e.code === 413);
    assert.equal(await s.get(ref("big")), undefined);
  });

  test("20 concurrent updaters: each lands or gets 409, none is lost", async () => {
    const s = newStorage();
    await s.create(ref("counter"), obj("counter", { n: "0" }));
    // Each updater reads once and sends its resourceVersion as a precondition (as a client would).
    const start = await s.get(ref("counter"));
    assert.ok(start);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, async () => {
        const mine = await s.get(ref("counter"));
        assert.ok(mine);
        return s.guaranteedUpdate(ref("counter"), (cur) => {
          assert.ok(cur);
          if (cur.rev !== mine.rev) throw new StatusError(409, "Conflict", "stale");
          const next = structuredClone(cur.obj);
          next.data = { n: String(Number((cur.obj.data as { n: string }).n) + 1) };
          return next;
        });
      }),
    );
    const ok = results.filter((r) => r.status === "fulfilled").length;
    for (const r of results) if (r.status === "rejected") assert.ok(isConflict(r.reason), String(r.reason));
    assert.ok(ok >= 1);
    const final = await s.get(ref("counter"));
    assert.equal((final?.obj.data as { n: string } | undefined)?.n, String(ok));

    // Without preconditions guaranteedUpdate retries on conflict: all 20 land.
    await Promise.all(
      Array.from({ length: 20 }, () =>
        s.guaranteedUpdate(ref("counter"), (cur) => {
          const next = structuredClone((cur as { obj: KubeObject }).obj);
          next.data = { n: String(Number((next.data as { n: string }).n) + 1) };
          return next;
        }),
      ),
    );
    const final2 = await s.get(ref("counter"));
    assert.equal((final2?.obj.data as { n: string } | undefined)?.n, String(ok + 20));
  });

  test("guaranteedUpdate: NO_CHANGE writes nothing, DELETE deletes, missing is 404, allowCreate creates", async () => {
    const s = newStorage();
    const c = await s.create(ref("x"), obj("x"));
    const same = await s.guaranteedUpdate(ref("x"), () => NO_CHANGE);
    assert.equal(same.written, false);
    assert.equal(same.rev, c.rev);
    const del = await s.guaranteedUpdate(ref("x"), () => DELETE);
    assert.equal(del.deleted, true);
    assert.ok(del.rev > c.rev);
    assert.equal(await s.get(ref("x")), undefined);
    await assert.rejects(
      s.guaranteedUpdate(ref("x"), () => NO_CHANGE),
      isNotFound,
    );
    const made = await s.guaranteedUpdate(ref("y"), (cur) => (cur ? NO_CHANGE : obj("y")), { allowCreate: true });
    assert.equal(made.created, true);
    // A stale suggestion is detected by the transaction and re-read.
    const fresh = await s.guaranteedUpdate(ref("y"), (cur) => ({
      ...obj("y", { v: "1" }),
      metadata: { ...(cur as { obj: KubeObject }).obj.metadata },
    }));
    const stale = { obj: made.obj, rev: made.rev };
    const r = await s.guaranteedUpdate(
      ref("y"),
      (cur) => {
        const next = structuredClone((cur as { obj: KubeObject }).obj);
        next.data = { v: "2" };
        return next;
      },
      { suggestion: stale },
    );
    assert.ok(r.rev > fresh.rev);
    assert.deepEqual((await s.get(ref("y")))?.obj.data, { v: "2" });
  });

  test("paging over 1,000 objects returns each exactly once, also while objects are added", async () => {
    const s = newStorage();
    const names = Array.from({ length: 1000 }, (_, i) => `o-${String(i).padStart(4, "0")}`);
    for (let i = 0; i < names.length; i += 100)
      await Promise.all(
        names.slice(i, i + 100).map((nm) => s.create(ref(nm), obj(nm, {}, { parity: String(names.indexOf(nm) % 2) }))),
      );
    const seen = new Map<string, number>();
    let token: string | undefined;
    let pages = 0;
    let rev = 0;
    let adder = 0;
    do {
      const page = await s.list({ prefix: s.listPrefix(cm, "default"), limit: 97, continue: token });
      pages++;
      if (rev === 0) rev = page.rev;
      assert.equal(page.rev, rev, "every page reads at the first page's revision");
      for (const it of page.items)
        seen.set(it.obj.metadata.name ?? "", (seen.get(it.obj.metadata.name ?? "") ?? 0) + 1);
      if (page.continue) assert.equal(page.remainingItemCount, 1000 - seen.size);
      token = page.continue;
      // Concurrent writers add objects in the middle of the key space; the paged list must not show them.
      await s.create(ref(`o-0500-new-${adder}`), obj(`o-0500-new-${adder++}`));
    } while (token);
    assert.equal(pages, Math.ceil(1000 / 97));
    assert.equal(seen.size, 1000);
    for (const [name, count] of seen) assert.equal(count, 1, name);
    // With a filter, pages are still filled to the limit.
    const odd = await s.list({
      prefix: s.listPrefix(cm, "default"),
      limit: 50,
      filter: (o) => o.metadata.labels?.parity === "1",
    });
    assert.equal(odd.items.length, 50);
    assert.ok(odd.continue);
    assert.ok(odd.items.every((o) => o.obj.metadata.labels?.parity === "1"));
    // Unpaged: everything, current revision.
    const all = await s.list({ prefix: s.listPrefix(cm) });
    assert.equal(all.items.length, 1000 + adder);
  });

  test("continue tokens: round trip and validation", () => {
    const t = encodeContinue(42, "ns/name\u0000");
    assert.deepEqual(decodeContinue(t), { rev: 42, start: "ns/name\u0000" });
    assert.throws(
      () => decodeContinue("!!!"),
      (e) => e instanceof StatusError && e.code === 400,
    );
    assert.throws(
      () => decodeContinue(Buffer.from('{"v":"x"}').toString("base64")),
      (e) => e instanceof StatusError && e.code === 400,
    );
    assert.throws(
      () => decodeContinue(encodeContinue(1, "../secrets/")),
      (e) => e instanceof StatusError && e.code === 400,
    );
  });

  test("a compacted revision answers 410 (continue and read at revision)", async () => {
    const s = newStorage();
    for (let i = 0; i < 5; i++) await s.create(ref(`c${i}`), obj(`c${i}`));
    const page = await s.list({ prefix: s.listPrefix(cm, "default"), limit: 2 });
    assert.ok(page.continue);
    for (let i = 0; i < 5; i++)
      await s.guaranteedUpdate(ref(`c${i}`), (cur) => ({
        ...(cur as { obj: KubeObject }).obj,
        data: { i: String(i) },
      }));
    await s.compact(await s.currentRevision());
    await assert.rejects(s.list({ prefix: s.listPrefix(cm, "default"), limit: 2, continue: page.continue }), isGone);
    await assert.rejects(s.get(ref("c0"), page.rev), isGone);
  });

  test("compactTick compacts to the revision of the previous tick", async () => {
    const s = newStorage();
    assert.equal(await s.compactTick(), 0);
    await s.create(ref("k"), obj("k"));
    const first = await s.currentRevision();
    await s.create(ref("k2"), obj("k2"));
    const compacted = await s.compactTick();
    assert.ok(compacted >= first - 1 && compacted <= first + 1, `${compacted} vs ${first}`);
  });
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

describe("WatchCache", () => {
  test("starts from the existing state, delivers every change in order, resumes from a mid revision", async () => {
    const s = newStorage();
    await s.create(ref("pre"), obj("pre"));
    const cache = new WatchCache({ storage: s, resources: BUILTIN_RESOURCES, log: silentLogger });
    await cache.start();
    try {
      const cms = cache.for(cm);
      assert.equal(cms.size, 1);
      const ac = new AbortController();
      const it = cms.watch({ signal: ac.signal })[Symbol.asyncIterator]();
      const first = await take(it, 1);
      assert.equal(first[0]?.type, "ADDED");
      assert.equal(first[0]?.object.metadata.name, "pre");

      const revs: number[] = [];
      const a = await s.create(ref("w"), obj("w"));
      revs.push(a.rev);
      for (let i = 0; i < 10; i++) {
        const u = await s.guaranteedUpdate(ref("w"), (cur) => ({
          ...(cur as { obj: KubeObject }).obj,
          data: { i: String(i) },
        }));
        revs.push(u.rev);
      }
      const d = await s.guaranteedUpdate(ref("w"), () => DELETE);
      revs.push(d.rev);
      const evs = await take(it, 12);
      assert.deepEqual(
        evs.map((e) => e.type),
        ["ADDED", ...Array(10).fill("MODIFIED"), "DELETED"],
      );
      assert.deepEqual(
        evs.map((e) => Number(e.object.metadata.resourceVersion)),
        revs,
      );
      ac.abort();
      assert.equal((await it.next()).done, true);

      // Resume from the 5th event's revision: exactly the later events.
      const mid = revs[4] as number;
      const it2 = cms.watch({ fromRev: mid })[Symbol.asyncIterator]();
      const later = await take(it2, revs.length - 5);
      assert.deepEqual(
        later.map((e) => Number(e.object.metadata.resourceVersion)),
        revs.slice(5),
      );
      await it2.return?.();
      assert.equal(cms.watcherCount, 0);
    } finally {
      cache.stop();
    }
  });

  test("selectors: an object leaving the filter is DELETED for that watcher, entering it is ADDED", async () => {
    const s = newStorage();
    const cache = new WatchCache({ storage: s, resources: BUILTIN_RESOURCES, log: silentLogger });
    await cache.start();
    try {
      const it = cache
        .for(cm)
        .watch({ fromRev: cache.rev, filter: (o) => o.metadata.labels?.app === "web", namespace: "default" })
        [Symbol.asyncIterator]();
      await s.create(ref("p"), obj("p", {}, { app: "db" }));
      await s.create(
        { r: cm, namespace: "other", name: "q" },
        { ...obj("q", {}, { app: "web" }), metadata: { name: "q", namespace: "other", labels: { app: "web" } } },
      );
      await s.guaranteedUpdate(ref("p"), (cur) => ({
        ...(cur as { obj: KubeObject }).obj,
        metadata: { ...(cur as { obj: KubeObject }).obj.metadata, labels: { app: "web" } },
      }));
      await s.guaranteedUpdate(ref("p"), (cur) => ({ ...(cur as { obj: KubeObject }).obj, data: { x: "1" } }));
      const last = await s.guaranteedUpdate(ref("p"), (cur) => ({
        ...(cur as { obj: KubeObject }).obj,
        metadata: { ...(cur as { obj: KubeObject }).obj.metadata, labels: {} },
      }));
      const evs = await take(it, 3);
      assert.deepEqual(
        evs.map((e) => e.type),
        ["ADDED", "MODIFIED", "DELETED"],
      );
      assert.equal(evs[2]?.object.metadata.resourceVersion, String(last.rev));
      await it.return?.();
    } finally {
      cache.stop();
    }
  });

  test("a resume point older than the history answers 410; a future one waits for the cache", async () => {
    const s = newStorage();
    const cache = new WatchCache({
      storage: s,
      resources: BUILTIN_RESOURCES,
      log: silentLogger,
      historyCapacity: 5,
      historyRetentionMs: 0,
    });
    await cache.start();
    try {
      const start = cache.rev;
      await s.create(ref("h"), obj("h"));
      for (let i = 0; i < 10; i++)
        await s.guaranteedUpdate(ref("h"), (cur) => ({ ...(cur as { obj: KubeObject }).obj, data: { i: String(i) } }));
      await waitFor(() => (cache.for(cm).get("default", "h")?.obj.data as { i?: string } | undefined)?.i === "9");
      const old = cache.for(cm).watch({ fromRev: start })[Symbol.asyncIterator]();
      await assert.rejects(old.next(), (e) => isGone(e) && /too old resource version/.test((e as Error).message));

      // A write to another prefix moves the global revision; the cache learns it by a progress request.
      const other = newStorage();
      const o = await other.create(ref("elsewhere"), obj("elsewhere"));
      const it = cache.for(cm).watch({ fromRev: o.rev })[Symbol.asyncIterator]();
      const next = it.next();
      const u = await s.guaranteedUpdate(ref("h"), (cur) => ({
        ...(cur as { obj: KubeObject }).obj,
        data: { i: "last" },
      }));
      const ev = await next;
      assert.equal(ev.value?.object.metadata.resourceVersion, String(u.rev));
      await it.return?.();

      // A revision that never comes: 504 Timeout after the freshness timeout.
      const fast = new WatchCache({
        storage: s,
        resources: BUILTIN_RESOURCES,
        log: silentLogger,
        freshnessTimeoutMs: 200,
      });
      await fast.start();
      try {
        const far = fast
          .for(cm)
          .watch({ fromRev: fast.rev + 1_000_000 })
          [Symbol.asyncIterator]();
        await assert.rejects(far.next(), (e) => e instanceof StatusError && e.code === 504);
      } finally {
        fast.stop();
      }
    } finally {
      cache.stop();
    }
  });

  test("bookmarks, initial-events-end, timeout and a slow consumer dropped with 410", async () => {
    const s = newStorage();
    const cache = new WatchCache({
      storage: s,
      resources: BUILTIN_RESOURCES,
      log: silentLogger,
      bookmarkIntervalMs: 50,
      watcherBufferSize: 5,
    });
    await cache.start();
    try {
      await s.create(ref("b1"), obj("b1"));
      await waitFor(() => cache.for(cm).size === 1);
      const it = cache.for(cm).watch({ sendInitialEvents: true, allowBookmarks: true })[Symbol.asyncIterator]();
      const [added, end] = await take(it, 2);
      assert.equal(added?.type, "ADDED");
      assert.equal(end?.type, "BOOKMARK");
      assert.equal(end?.object.metadata.annotations?.["k8s.io/initial-events-end"], "true");
      const other = newStorage();
      const o = await other.create(ref("elsewhere"), obj("elsewhere"));
      // Periodic bookmarks carry the progress made elsewhere.
      await waitFor(async () => {
        const [bm] = await take(it, 1);
        return bm?.type === "BOOKMARK" && Number(bm.object.metadata.resourceVersion) >= o.rev;
      });
      await it.return?.();

      const timed = cache.for(cm).watch({ fromRev: cache.rev, timeoutMs: 50 })[Symbol.asyncIterator]();
      assert.equal((await timed.next()).done, true);

      // A consumer that never reads: the 6th queued event drops it with 410; the reading one is unaffected.
      const slow = cache.for(cm).watch({ fromRev: cache.rev })[Symbol.asyncIterator]();
      const fast = cache.for(cm).watch({ fromRev: cache.rev })[Symbol.asyncIterator]();
      const firstSlow = slow.next(); // registers the watcher; takes the first event
      const firstFast = fast.next();
      const fastSeen: WatchEvent[] = [];
      for (let i = 0; i < 10; i++) {
        await s.create(ref(`s${i}`), obj(`s${i}`));
        if (i === 0) fastSeen.push((await firstFast).value as WatchEvent);
        else fastSeen.push(...(await take(fast, 1)));
      }
      assert.equal(fastSeen.length, 10);
      assert.equal((await firstSlow).value?.type, "ADDED");
      await assert.rejects(take(slow, 10), isGone);
      await fast.return?.();
    } finally {
      cache.stop();
    }
  });

  test("the cache's etcd watch reconnects after an etcd restart and misses nothing", async () => {
    const own = await startEtcd();
    const s = new EtcdStorage({ endpoints: [own.endpoint], prefix: "/restart", log: silentLogger });
    const cache = new WatchCache({ storage: s, resources: BUILTIN_RESOURCES, log: silentLogger });
    try {
      await cache.start();
      const it = cache.for(cm).watch({ fromRev: cache.rev })[Symbol.asyncIterator]();
      const first = it.next();
      await s.create(ref("before"), obj("before"));
      assert.equal((await first).value?.object.metadata.name, "before");
      await own.restart();
      // Writes made right after the restart (the watch may still be reconnecting) arrive in order.
      await waitFor(() => s.create(ref("after-0"), obj("after-0")).then(() => true), {
        timeoutMs: 20_000,
        intervalMs: 200,
      });
      for (let i = 1; i < 5; i++) await s.create(ref(`after-${i}`), obj(`after-${i}`));
      const evs = await take(it, 5);
      assert.deepEqual(
        evs.map((e) => e.object.metadata.name),
        ["after-0", "after-1", "after-2", "after-3", "after-4"],
      );
      await it.return?.();
    } finally {
      cache.stop();
      s.close();
      await own.stop();
    }
  });

  test("a compacted start revision is reported; resync re-lists and ends current watchers with 410", async () => {
    const s = newStorage();
    const a = await s.create(ref("a"), obj("a"));
    await s.guaranteedUpdate(ref("a"), (cur) => ({ ...(cur as { obj: KubeObject }).obj, data: { v: "2" } }));
    await s.compact(await s.currentRevision());
    const compacted = new Promise<number>((resolve) => {
      const pw = new PrefixWatch(
        s,
        `${s.prefix}/`,
        a.rev - 1,
        {
          onEvents: () => {},
          onProgress: () => {},
          onCompacted: (r) => {
            pw.stop();
            resolve(r);
          },
        },
        silentLogger,
      );
      pw.start();
    });
    assert.ok((await compacted) > a.rev);

    const cache = new WatchCache({ storage: s, resources: BUILTIN_RESOURCES, log: silentLogger });
    await cache.start();
    try {
      const it = cache.for(cm).watch({ fromRev: cache.rev })[Symbol.asyncIterator]();
      const pending = it.next();
      await cache.resync();
      await assert.rejects(pending, isGone);
      assert.deepEqual(cache.for(cm).get("default", "a")?.obj.data, { v: "2" });
      // The cache keeps following etcd after the resync.
      await s.create(ref("b"), obj("b"));
      await waitFor(() => cache.for(cm).get("default", "b"));
    } finally {
      cache.stop();
    }
  });
});
