import assert from "node:assert/strict";
import { test } from "node:test";
import { metaTime } from "#pkg/api/time.js";
import { deletionFinalizers, generateNameSuffix } from "./store.js";

test("generateNameSuffix: 5 characters from upstream's alphabet", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const s = generateNameSuffix();
    assert.match(s, /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    seen.add(s);
  }
  assert.ok(seen.size > 190);
});

test("metaTime (the store's timestamps) has second precision and honours an offset", () => {
  const nowRFC3339 = (offsetSeconds = 0) => metaTime(Date.now() + offsetSeconds * 1000);
  assert.match(nowRFC3339(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const diff = Date.parse(nowRFC3339(30)) - Date.parse(nowRFC3339());
  assert.ok(diff >= 29_000 && diff <= 31_000, String(diff));
});

test("deletionFinalizers: upstream's shouldOrphanDependents / shouldDeleteDependents", () => {
  const keep = ["example.com/x"];
  // The request decides first: policy, or the deprecated orphanDependents.
  assert.deepEqual(deletionFinalizers(keep, { propagationPolicy: "Orphan" }, "DeleteDependents"), [
    "example.com/x",
    "orphan",
  ]);
  assert.deepEqual(deletionFinalizers(keep, { propagationPolicy: "Foreground" }, "DeleteDependents"), [
    "example.com/x",
    "foregroundDeletion",
  ]);
  assert.deepEqual(deletionFinalizers(["orphan"], { propagationPolicy: "Foreground" }, "DeleteDependents"), [
    "foregroundDeletion",
  ]);
  assert.deepEqual(
    deletionFinalizers(["foregroundDeletion"], { propagationPolicy: "Background" }, "DeleteDependents"),
    [],
  );
  assert.deepEqual(deletionFinalizers([], { orphanDependents: true }, "DeleteDependents"), ["orphan"]);
  assert.deepEqual(deletionFinalizers(["foregroundDeletion"], { orphanDependents: false }, "OrphanDependents"), []);
  // No request: the object's own finalizers, then the kind's default.
  assert.deepEqual(deletionFinalizers(["foregroundDeletion", "a/b"], {}, "OrphanDependents"), [
    "foregroundDeletion",
    "a/b",
  ]);
  assert.deepEqual(deletionFinalizers([], {}, "OrphanDependents"), ["orphan"]);
  assert.deepEqual(deletionFinalizers([], {}, "DeleteDependents"), []);
  // Unsupported kinds (events) are left alone.
  assert.deepEqual(deletionFinalizers([], { propagationPolicy: "Foreground" }, "Unsupported"), []);
});
