import assert from "node:assert/strict";
import { test } from "node:test";
import { StatusError } from "#pkg/api/errors.js";
import { checkObject, objectOf } from "./object-checks.js";

const cm = { apiVersion: "v1", kind: "ConfigMap", namespaced: true };
const badRequest = (re: RegExp) => (e: unknown) => e instanceof StatusError && e.code === 400 && re.test(e.message);

test("checkObject fills apiVersion, kind and namespace, clears a cluster-scoped one", () => {
  const o = checkObject({ metadata: { name: "a" } }, cm, "default", undefined);
  assert.deepEqual(o, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "default" } });
  const n = checkObject(
    { metadata: { name: "n", namespace: "x" } },
    { apiVersion: "v1", kind: "Node", namespaced: false },
    undefined,
    "n",
  );
  assert.equal(n.metadata.namespace, undefined);
});

test("checkObject refuses what does not match the request, in upstream's words", () => {
  assert.throws(
    () => checkObject({ apiVersion: "apps/v1" }, cm, "default", undefined),
    badRequest(/^the API version in the data \(apps\/v1\) does not match the expected API version \(v1\)$/),
  );
  assert.throws(
    () => checkObject({ kind: "Secret" }, cm, "default", undefined),
    badRequest(/must be of type ConfigMap/),
  );
  assert.throws(
    () => checkObject({ metadata: { namespace: "other" } }, cm, "default", undefined),
    badRequest(/does not match the namespace sent on the request/),
  );
  assert.throws(() => checkObject({}, cm, undefined, undefined), badRequest(/a namespace is required/));
  assert.throws(
    () => checkObject({ metadata: {} }, cm, "default", "a"),
    badRequest(/^the name of the object \(\) does not match the name on the URL \(a\)$/),
  );
  assert.throws(() => objectOf([1], "ConfigMap"), badRequest(/expected a JSON object/));
  assert.throws(() => objectOf({ metadata: "x" }, "ConfigMap"), badRequest(/metadata must be an object/));
});
