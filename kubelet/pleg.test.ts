import assert from "node:assert/strict";
import { test } from "node:test";
import { realClock } from "#pkg/runtime/clock.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { Pleg } from "./pleg.js";
import type { ContainerInfo, Runtime } from "./runtime/runtime.js";

/** A runtime whose list() calls wait until the test releases them, in order. */
function gatedRuntime() {
  const pending: Array<(l: ContainerInfo[]) => void> = [];
  let lists = 0;
  const runtime = {
    list: () => {
      lists++;
      return new Promise<ContainerInfo[]>((resolve) => pending.push(resolve));
    },
  } as unknown as Runtime;
  return {
    runtime,
    lists: () => lists,
    release: (l: ContainerInfo[] = []) => pending.shift()?.(l),
  };
}

const flush = () => new Promise((r) => setImmediate(r));

test("freshList: callers during a list in flight share the one list queued after it", async () => {
  const rt = gatedRuntime();
  const pleg = new Pleg({
    runtime: rt.runtime,
    log: silentLogger,
    clock: realClock,
    relistPeriodMs: 1000,
    onPodChanged: () => {},
  });
  const first = pleg.freshList();
  assert.equal(rt.lists(), 1);
  // Three syncs while the first list runs: none may use it (it began before them), all share the next.
  const waiting = [pleg.freshList(), pleg.freshList(), pleg.freshList()];
  assert.equal(waiting[0], waiting[1]);
  assert.equal(waiting[1], waiting[2]);
  await flush();
  assert.equal(rt.lists(), 1, "the queued list begins only after the one in flight");
  rt.release([]);
  await first;
  await flush();
  assert.equal(rt.lists(), 2);
  // A caller after the second list has begun needs a third.
  const later = pleg.freshList();
  assert.notEqual(later, waiting[0]);
  const c = { id: "a" } as ContainerInfo;
  rt.release([c]);
  assert.deepEqual(await waiting[0], [c]);
  assert.deepEqual(pleg.cached(), [c]);
  await flush();
  assert.equal(rt.lists(), 3);
  rt.release([]);
  assert.deepEqual(await later, []);
  // Idle again: a new call lists at once.
  void pleg.freshList();
  assert.equal(rt.lists(), 4);
  rt.release([]);
});

test("freshList: a failed list does not stop the one queued behind it", async () => {
  let n = 0;
  const runtime = {
    list: async () => {
      n++;
      if (n === 1) throw new Error("boom");
      return [];
    },
  } as unknown as Runtime;
  const pleg = new Pleg({ runtime, log: silentLogger, clock: realClock, relistPeriodMs: 1000, onPodChanged: () => {} });
  const a = pleg.freshList();
  const b = pleg.freshList();
  await assert.rejects(a, /boom/);
  assert.deepEqual(await b, []);
});
