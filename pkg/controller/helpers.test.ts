import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "../api/meta.js";
import { FakeClock } from "../runtime/clock.js";
import { ControllerExpectations } from "./expectations.js";
import { controllerKeyOf, controllerRef, isControlledBy, keyOfEvent, newControllerRef } from "./owners.js";

test("expectations block syncs until observed, by count and by uid, and expire", () => {
  const clock = new FakeClock();
  const e = new ControllerExpectations({ clock, ttlMs: 1000 });
  assert.ok(e.satisfied("ns/rs"));
  e.expectCreations("ns/rs", 2);
  assert.equal(e.satisfied("ns/rs"), false);
  e.creationObserved("ns/rs");
  assert.equal(e.satisfied("ns/rs"), false);
  e.creationObserved("ns/rs");
  assert.ok(e.satisfied("ns/rs"));

  e.expectDeletions("ns/rs", ["u1", "u2"]);
  e.deletionObserved("ns/rs", "other");
  e.deletionObserved("ns/rs", "u1");
  assert.deepEqual(e.pending("ns/rs"), { add: 0, del: 1 });
  e.deletionObserved("ns/rs", "u1");
  assert.equal(e.satisfied("ns/rs"), false, "the same uid does not count twice");
  clock.step(1001);
  assert.ok(e.satisfied("ns/rs"), "expired");
  e.delete("ns/rs");
  assert.equal(e.pending("ns/rs"), undefined);
});

test("owner reference helpers", () => {
  const rs: KubeObject = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: "web", namespace: "ns", uid: "u-rs" },
  };
  const ref = newControllerRef(rs);
  assert.deepEqual(ref, {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    name: "web",
    uid: "u-rs",
    controller: true,
    blockOwnerDeletion: true,
  });
  const pod: KubeObject = { metadata: { name: "web-x", namespace: "ns", ownerReferences: [ref] } };
  assert.equal(controllerRef(pod), ref);
  assert.ok(isControlledBy(pod, rs));
  assert.equal(controllerKeyOf(pod, "ReplicaSet"), "ns/web");
  assert.equal(controllerKeyOf(pod, "Job"), undefined);
  assert.equal(controllerKeyOf({ tombstone: true, key: "ns/web-x", lastKnown: pod }, "ReplicaSet"), "ns/web");
  assert.equal(keyOfEvent({ tombstone: true, key: "ns/web-x", lastKnown: pod }), "ns/web-x");
  assert.throws(() => newControllerRef({ metadata: { name: "x" } }), /uid are required/);
});
