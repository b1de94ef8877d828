import assert from "node:assert/strict";
import { test } from "node:test";
import { StatusError } from "#pkg/api/errors.js";
import { decodeObject, decodeOptional, decodePatch } from "./body.js";
import { deleteOptions, listOptions, writeParams } from "./query.js";

function code(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    return err.code;
  }
  return 0;
}

test("decodeObject by Content-Type", () => {
  assert.deepEqual(decodeObject(Buffer.from('{"a":1}'), "application/json; charset=utf-8", "Pod"), { a: 1 });
  assert.deepEqual(decodeObject(Buffer.from('{"a":1}'), undefined, "Pod"), { a: 1 }, "no Content-Type is JSON");
  assert.deepEqual(decodeObject("a: 1\nb: [x]\n", "application/yaml", "Pod"), { a: 1, b: ["x"] });
  assert.equal(
    code(() => decodeObject("{", "application/json", "Pod")),
    400,
  );
  assert.equal(
    code(() => decodeObject("a: [", "application/yaml", "Pod")),
    400,
  );
  assert.equal(
    code(() => decodeObject("", "application/json", "Pod")),
    400,
  );
  assert.equal(
    code(() => decodeObject("k8s\0", "application/vnd.kubernetes.protobuf", "Pod")),
    415,
  );
  assert.equal(
    code(() => decodeObject("x", "text/plain", "Pod")),
    415,
  );
});

test("decodePatch by Content-Type", () => {
  assert.deepEqual(decodePatch('{"a":1}', "application/merge-patch+json"), { kind: "merge", patch: { a: 1 } });
  assert.deepEqual(decodePatch("[]", "application/json-patch+json"), { kind: "json", patch: [] });
  assert.deepEqual(decodePatch('{"a":1}', "application/strategic-merge-patch+json"), {
    kind: "strategic",
    patch: { a: 1 },
  });
  assert.deepEqual(decodePatch('{"a":1}', "application/apply-patch+yaml"), { kind: "apply", patch: { a: 1 } });
  assert.deepEqual(decodePatch("a: 1\n", "application/apply-patch+yaml"), { kind: "apply", patch: { a: 1 } });
  assert.equal(
    code(() => decodePatch("{}", "application/json")),
    415,
  );
  assert.equal(
    code(() => decodePatch("{}", "application/json-patch+json")),
    400,
  );
  assert.equal(
    code(() => decodePatch("[]", "application/merge-patch+json")),
    400,
  );
  assert.equal(
    code(() => decodePatch("{", "application/merge-patch+json")),
    400,
  );
});

test("query parameters", () => {
  assert.deepEqual(
    listOptions({ labelSelector: "app in (a,b)", limit: "500", watch: "true", allowWatchBookmarks: "true" }),
    {
      labelSelector: "app in (a,b)",
      limit: 500,
      allowWatchBookmarks: true,
    },
  );
  assert.equal(
    code(() => listOptions({ limit: "x" })),
    400,
  );
  assert.deepEqual(writeParams({ dryRun: "All", fieldManager: "kubectl", fieldValidation: "Strict", force: "true" }), {
    dryRun: true,
    fieldManager: "kubectl",
    fieldValidation: "Strict",
    force: true,
  });
  assert.equal(writeParams({}).fieldValidation, "Warn");
  assert.equal(
    code(() => writeParams({ dryRun: "Yes" })),
    400,
  );
  assert.equal(
    code(() => writeParams({ fieldValidation: "Loud" })),
    400,
  );
  assert.deepEqual(deleteOptions(decodeOptional('{"propagationPolicy":"Background"}', "application/json"), {}), {
    propagationPolicy: "Background",
  });
  assert.deepEqual(deleteOptions(undefined, { gracePeriodSeconds: "0", propagationPolicy: "Foreground" }), {
    gracePeriodSeconds: 0,
    propagationPolicy: "Foreground",
  });
  // Upstream's ValidateDeleteOptions: 422 Invalid.
  assert.equal(
    code(() => deleteOptions({ propagationPolicy: "Sideways" }, {})),
    422,
  );
  assert.deepEqual(deleteOptions({ orphanDependents: false }, {}), { orphanDependents: false });
  assert.deepEqual(deleteOptions(undefined, { orphanDependents: "true" }), { orphanDependents: true });
  assert.equal(
    code(() => deleteOptions({ orphanDependents: true, propagationPolicy: "Orphan" }, {})),
    422,
  );
  assert.equal(
    code(() => deleteOptions([], {})),
    400,
  );
});
