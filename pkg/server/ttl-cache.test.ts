import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "../runtime/clock.js";
import { TtlCache } from "./ttl-cache.js";

test("TtlCache: entries live for their own TTL, 0 keeps nothing", () => {
  const clock = new FakeClock();
  const c = new TtlCache<string>({ clock });
  c.set("a", "A", 1000);
  c.set("b", "B", 0);
  assert.equal(c.get("a"), "A");
  assert.equal(c.get("b"), undefined);
  clock.step(999);
  assert.equal(c.get("a"), "A");
  clock.step(1);
  assert.equal(c.get("a"), undefined);
  assert.equal(c.size, 0);
});

test("TtlCache: bounded, the oldest entry goes first", () => {
  const c = new TtlCache<number>({ clock: new FakeClock(), maxEntries: 2 });
  c.set("a", 1, 1000);
  c.set("b", 2, 1000);
  c.set("c", 3, 1000);
  assert.equal(c.size, 2);
  assert.equal(c.get("a"), undefined);
  assert.equal(c.get("c"), 3);
});

test("TtlCache.getOrLoad: concurrent lookups share one load; a failed load is not kept", async () => {
  const clock = new FakeClock();
  const c = new TtlCache<string>({ clock });
  let loads = 0;
  let release: (v: string) => void = () => undefined;
  const load = () => {
    loads++;
    return new Promise<string>((r) => {
      release = r;
    });
  };
  const a = c.getOrLoad("k", load, () => 1000);
  const b = c.getOrLoad("k", load, () => 1000);
  release("v");
  assert.deepEqual(await Promise.all([a, b]), ["v", "v"]);
  assert.equal(loads, 1);
  assert.equal(await c.getOrLoad("k", load, () => 1000), "v");
  assert.equal(loads, 1);

  let fails = 0;
  const failing = async () => {
    fails++;
    throw new Error("unreachable");
  };
  await assert.rejects(
    c.getOrLoad("x", failing, () => 1000),
    /unreachable/,
  );
  await assert.rejects(
    c.getOrLoad("x", failing, () => 1000),
    /unreachable/,
  );
  assert.equal(fails, 2);
  // The TTL is the answer's own: here a short one.
  assert.equal(
    await c.getOrLoad(
      "y",
      async () => "short",
      () => 10,
    ),
    "short",
  );
  clock.step(10);
  assert.equal(c.get("y"), undefined);
});
