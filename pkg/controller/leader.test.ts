import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Lease } from "../api/types/coordination.js";
import { ApiClient } from "../client/client.js";
import { sendJson, startTestServer, type TestServer } from "../client/testserver.js";
import { FakeClock } from "../runtime/clock.js";
import { LeaderElector } from "./leader.js";

// A fake Lease endpoint with etcd-like optimistic concurrency: every write bumps the
// resourceVersion, and an update carrying a stale one gets 409 Conflict.
let server: TestServer;
let client: ApiClient;
let lease: Lease | undefined;
let rv = 0;
/** Identities whose writes fail with 500 (a partitioned leader). */
const partitioned = new Set<string>();

before(async () => {
  server = await startTestServer();
  client = new ApiClient({ server: server.url });
  server.handle((req, res) => {
    const path = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";
    if (req.method === "GET") {
      if (!lease) return sendJson(res, 404, { kind: "Status", reason: "NotFound", message: "not found", code: 404 });
      return sendJson(res, 200, lease);
    }
    const body = JSON.parse(req.body) as Lease;
    if (partitioned.has(body.spec?.holderIdentity ?? "")) {
      return sendJson(res, 500, { kind: "Status", reason: "InternalError", message: "partition", code: 500 });
    }
    if (req.method === "POST" && req.url.pathname === path) {
      if (lease) return sendJson(res, 409, { kind: "Status", reason: "AlreadyExists", message: "exists", code: 409 });
      lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
      return sendJson(res, 201, lease);
    }
    if (req.method === "PUT" && lease) {
      if (body.metadata.resourceVersion !== lease.metadata.resourceVersion) {
        return sendJson(res, 409, { kind: "Status", reason: "Conflict", message: "stale", code: 409 });
      }
      lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
      return sendJson(res, 200, lease);
    }
    sendJson(res, 400, { kind: "Status", reason: "BadRequest", message: "unexpected", code: 400 });
  });
});
after(async () => {
  await client.close();
  await server.close();
});

/** Resolves the promise drive() waits on: a leadership callback ran, so its condition may hold now. */
let progressed: () => void = () => {};
function progress(): void {
  progressed();
}

/**
 * Moves fake time in small steps, letting each elector finish its HTTP round trip between steps:
 * a step waits until every running elector sleeps on the clock again, or until a leadership
 * callback reports progress (an elector that stops leading never sleeps again).
 */
async function drive(clock: FakeClock, sleepers: () => number, cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const next = new Promise<void>((r) => {
      progressed = r;
    });
    await Promise.race([clock.waitForTimers(sleepers()), next]);
    if (cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await clock.advance(100);
  }
}

test("two electors: one leads, the other follows; a partitioned leader steps down and the follower takes over", async () => {
  const clock = new FakeClock();
  const opts = {
    namespace: "kube-system",
    name: "kube-scheduler",
    leaseDurationSeconds: 3,
    renewDeadlineSeconds: 2,
    retryPeriodSeconds: 0.5,
    clock,
  };
  const a = new LeaderElector(client, { ...opts, identity: "a" });
  const b = new LeaderElector(client, { ...opts, identity: "b" });
  const acA = new AbortController();
  const acB = new AbortController();
  const log: string[] = [];
  let aLeading: AbortSignal | undefined;
  const runA = a.run(acA.signal, {
    onStartedLeading: (s) => {
      aLeading = s;
      log.push("a started");
      progress();
    },
    onStoppedLeading: () => {
      log.push("a stopped");
      progress();
    },
  });
  let active = 1;
  await drive(
    clock,
    () => active,
    () => a.isLeader(),
    "a to lead",
  );
  assert.equal(lease?.spec?.holderIdentity, "a");
  assert.equal(lease?.spec?.leaseTransitions, 0);
  assert.equal(lease?.spec?.leaseDurationSeconds, 3);
  assert.match(lease?.spec?.renewTime ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

  const runB = b.run(acB.signal, {
    onStartedLeading: () => {
      log.push("b started");
      progress();
    },
    onStoppedLeading: () => {
      log.push("b stopped");
      progress();
    },
  });
  active = 2;
  // Ten seconds of fake time: a keeps renewing, b must not take over.
  const start = clock.now();
  const acquireTime = lease?.spec?.acquireTime;
  await drive(
    clock,
    () => active,
    () => clock.now() - start >= 10_000,
    "10 s of renewals",
  );
  assert.equal(b.isLeader(), false);
  assert.equal(b.getLeader(), "a");
  assert.equal(lease?.spec?.holderIdentity, "a");
  assert.equal(lease?.spec?.acquireTime, acquireTime, "renewals keep acquireTime");
  assert.ok(Date.parse(lease?.spec?.renewTime ?? "") > start, "renewTime advances");

  // Partition a: its renewals fail. After renewDeadline it stops leading; b takes over once the lease expires.
  partitioned.add("a");
  const cut = clock.now();
  await drive(
    clock,
    () => active,
    () => log.includes("a stopped"),
    "a to step down",
  );
  active = 1;
  assert.ok(aLeading?.aborted, "the leading signal aborts");
  assert.ok(clock.now() - cut >= 2000 && clock.now() - cut < 3000, `stepped down after ${clock.now() - cut} ms`);
  await runA;
  await drive(
    clock,
    () => active,
    () => b.isLeader(),
    "b to take over",
  );
  assert.ok(clock.now() - cut >= 3000, "not before a's lease expired");
  assert.equal(lease?.spec?.holderIdentity, "b");
  assert.equal(lease?.spec?.leaseTransitions, 1);
  assert.deepEqual(log, ["a started", "a stopped", "b started"]);

  // Shutdown releases the lease for the next candidate.
  acB.abort();
  await runB;
  assert.equal(lease?.spec?.holderIdentity, "");
  assert.deepEqual(log, ["a started", "a stopped", "b started", "b stopped"]);
});

test("shutdown releases the lease even when a renewal it never saw answered moved it on (a conflict)", async () => {
  lease = undefined;
  const clock = new FakeClock();
  const c = new LeaderElector(client, {
    namespace: "kube-system",
    name: "kube-scheduler",
    identity: "c",
    leaseDurationSeconds: 3,
    renewDeadlineSeconds: 2,
    retryPeriodSeconds: 0.5,
    clock,
  });
  const ac = new AbortController();
  const run = c.run(ac.signal, { onStartedLeading: () => progress() });
  await drive(
    clock,
    () => 1,
    () => c.isLeader(),
    "c to lead",
  );
  // A renewal written by the server whose answer the elector lost: what it observed is stale now.
  const held = lease as Lease | undefined;
  assert.ok(held);
  lease = { ...held, metadata: { ...held.metadata, resourceVersion: String(++rv) } };
  ac.abort();
  await run;
  assert.equal(lease?.spec?.holderIdentity, "", "released after reading the Lease again");
});
