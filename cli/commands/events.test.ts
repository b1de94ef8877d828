import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Event } from "#pkg/api/types/index.js";
import { eventRows, lastSeen, naturalCompare, relaxedJsonPath, sortByField, sortEvents } from "./events.js";

const ev = (name: string, o: Partial<Event>): Event =>
  ({ metadata: { name, namespace: "default" }, involvedObject: { kind: "Pod", name: "web-1" }, ...o }) as Event;

describe("events", () => {
  test("sorted by when they last happened: series, lastTimestamp, eventTime; ties keep the server's order", () => {
    const events = [
      ev("c", { lastTimestamp: "2026-01-01T00:00:30Z" }),
      ev("a", { eventTime: "2026-01-01T00:00:10.500000Z" }),
      ev("b", {
        series: { count: 2, lastObservedTime: "2026-01-01T00:00:20.000000Z" },
        lastTimestamp: "2026-01-01T00:00:40Z",
      }),
      ev("d", { lastTimestamp: "2026-01-01T00:00:30Z" }),
    ];
    assert.deepEqual(
      sortEvents(events).map((e) => e.metadata.name),
      ["a", "b", "c", "d"],
    );
  });

  test("kubectl events' table: LAST SEEN with repeats folded, OBJECT as kind/name, message cut at a line break", () => {
    const now = Date.parse("2026-01-01T00:10:00Z");
    const e = ev("x", {
      type: "Warning",
      reason: "BackOff",
      message: "Back-off restarting\nmore",
      count: 3,
      firstTimestamp: "2026-01-01T00:05:00Z",
      lastTimestamp: "2026-01-01T00:09:00Z",
    });
    assert.equal(lastSeen(e, now), "60s (x3 over 5m)");
    assert.equal(
      eventRows([e], { allNamespaces: true, header: true }, now),
      "NAMESPACE\tLAST SEEN\tTYPE\tREASON\tOBJECT\tMESSAGE\ndefault\t60s (x3 over 5m)\tWarning\tBackOff\tPod/web-1\tBack-off restarting...\n",
    );
  });

  test("--sort-by: relaxed jsonpath, numbers numerically, text naturally, missing first", () => {
    assert.equal(relaxedJsonPath(".metadata.name"), "{.metadata.name}");
    assert.equal(relaxedJsonPath("metadata.name"), "{.metadata.name}");
    assert.equal(relaxedJsonPath("{.spec.replicas}"), "{.spec.replicas}");
    assert.ok(naturalCompare("web-2", "web-10") < 0);
    const objs = [{ n: "b", v: 10 }, { n: "a", v: 9 }, { n: "c" }, { n: "web-10", v: 1 }, { n: "web-2", v: 1 }];
    assert.deepEqual(
      sortByField(objs, ".v", (x) => x).map((x) => x.n),
      ["c", "web-10", "web-2", "a", "b"],
    );
    assert.deepEqual(
      sortByField(objs, "{.n}", (x) => x).map((x) => x.n),
      ["a", "b", "c", "web-2", "web-10"],
    );
  });
});
