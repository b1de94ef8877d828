import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import { StatusError } from "#pkg/api/errors.js";
import type { Pod } from "#pkg/api/types/index.js";
import { CliContext } from "../context.js";
import { evictUntilAccepted } from "./node.js";

const VIOLATION = "Cannot evict pod as it would violate the pod's disruption budget.";

/** A CliContext whose client answers pod reads with `current` and evictions from `answers`. */
function rig(answers: Array<StatusError | "ok">, current: () => Pod) {
  let out = "";
  let err = "";
  const io = { out: new PassThrough(), err: new PassThrough(), in: new PassThrough() };
  io.out.on("data", (d: Buffer) => {
    out += d.toString();
  });
  io.err.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const ctx = new CliContext({}, io);
  let evictions = 0;
  Object.defineProperty(ctx, "client", {
    value: {
      get: async () => current(),
      create: async () => {
        const a = answers[evictions++] ?? "ok";
        if (a !== "ok") throw a;
        return { kind: "Status", status: "Success" };
      },
    },
  });
  return { ctx, out: () => out, err: () => err, evictions: () => evictions };
}

const pod: Pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "web", namespace: "ns", uid: "u1" } };
const tooMany = () => new StatusError(429, "TooManyRequests", VIOLATION);

describe("drain's eviction loop", () => {
  test("a refused eviction is retried, with kubectl's message, until accepted", async () => {
    const r = rig([tooMany(), tooMany()], () => pod);
    assert.equal(await evictUntilAccepted(r.ctx, pod, { grace: -1, timeoutText: "1m0s", retryMs: 1 }), "evicted");
    assert.equal(r.evictions(), 3);
    assert.equal(r.out(), "evicting pod ns/web\n".repeat(3));
    assert.equal(r.err(), `error when evicting pods/"web" -n "ns" (will retry after 5s): ${VIOLATION}\n`.repeat(2));
  });

  test("the global timeout ends the retries", async () => {
    const ac = new AbortController();
    const r = rig([tooMany(), tooMany(), tooMany()], () => pod);
    const p = evictUntilAccepted(r.ctx, pod, { grace: -1, signal: ac.signal, timeoutText: "3s", retryMs: 60_000 });
    setImmediate(() => ac.abort());
    await assert.rejects(p, { message: 'error when evicting pods/"web" -n "ns": global timeout reached: 3s' });
    assert.equal(r.evictions(), 1);
  });

  test("a pod replaced under the same name is done; other errors are the pod's", async () => {
    const replaced = rig([], () => ({ ...pod, metadata: { ...pod.metadata, uid: "u2" } }));
    assert.equal(await evictUntilAccepted(replaced.ctx, pod, { grace: -1, timeoutText: "0s" }), "gone");
    assert.equal(replaced.evictions(), 0);
    const forbidden = rig([new StatusError(403, "Forbidden", "nope")], () => pod);
    await assert.rejects(evictUntilAccepted(forbidden.ctx, pod, { grace: -1, timeoutText: "0s" }), {
      message: 'error when evicting pods/"web" -n "ns": nope',
    });
  });
});
