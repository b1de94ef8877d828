import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "#pkg/runtime/clock.js";
import { RoundRobin } from "./roundrobin.js";

describe("RoundRobin", () => {
  it("rotates over the endpoints, evenly", () => {
    const rr = new RoundRobin();
    rr.update("ns/web:http/TCP", ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]);
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const ep = rr.next("ns/web:http/TCP") as string;
      counts.set(ep, (counts.get(ep) ?? 0) + 1);
    }
    assert.deepEqual([...counts.values()], [100, 100, 100]);
  });

  it("no endpoints (or no service): undefined", () => {
    const rr = new RoundRobin();
    assert.equal(rr.next("x"), undefined);
    rr.update("x", []);
    assert.equal(rr.next("x"), undefined);
  });

  it("an unchanged list keeps its place; a changed one starts over without the endpoints that left", () => {
    const rr = new RoundRobin();
    rr.update("s", ["a:1", "b:1", "c:1"]);
    assert.equal(rr.next("s"), "a:1");
    rr.update("s", ["a:1", "b:1", "c:1"]);
    assert.equal(rr.next("s"), "b:1");
    rr.update("s", ["a:1", "c:1"]);
    assert.deepEqual([rr.next("s"), rr.next("s"), rr.next("s")], ["a:1", "c:1", "a:1"]);
  });

  it("ClientIP affinity: a client keeps its endpoint within the timeout, while it stays listed", () => {
    const clock = new FakeClock();
    const rr = new RoundRobin({ clock });
    rr.update("s", ["a:1", "b:1"], 10);
    const first = rr.next("s", "192.0.2.9");
    assert.equal(rr.next("s", "192.0.2.10"), first === "a:1" ? "b:1" : "a:1");
    for (let i = 0; i < 5; i++) assert.equal(rr.next("s", "192.0.2.9"), first);
    clock.step(11_000);
    rr.next("s", "192.0.2.10");
    const after = rr.next("s", "192.0.2.9");
    assert.ok(after === "a:1" || after === "b:1");
    rr.update("s", ["c:1"], 10);
    assert.equal(rr.next("s", "192.0.2.9"), "c:1");
  });
});
