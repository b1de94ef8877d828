import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { startEtcd } from "../harness/etcd.js";
import { freePort } from "../harness/ports.js";
import { waitFor } from "../harness/wait.js";

test("startEtcd runs a healthy etcd and stop() removes its data dir", async () => {
  const etcd = await startEtcd();
  try {
    const res = await fetch(`${etcd.endpoint}/version`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { etcdserver?: string };
    assert.match(body.etcdserver ?? "", /^3\./);
    assert.ok(existsSync(etcd.dataDir));
  } finally {
    await etcd.stop();
  }
  assert.equal(existsSync(etcd.dataDir), false);
  await assert.rejects(fetch(`${etcd.endpoint}/version`));
});

test("freePort returns distinct usable ports", async () => {
  const a = await freePort();
  const b = await freePort();
  assert.ok(a > 0 && b > 0);
});

test("waitFor returns the first truthy value and times out with the message", async () => {
  let n = 0;
  assert.equal(await waitFor(() => (++n >= 3 ? n : undefined), { intervalMs: 1 }), 3);
  await assert.rejects(
    waitFor(() => false, { timeoutMs: 30, intervalMs: 5, message: "never" }),
    /timed out after 30 ms waiting for never/,
  );
});
