import assert from "node:assert/strict";
import { test } from "node:test";
import { StatusError } from "#pkg/api/errors.js";
import {
  decodeContinue,
  decodeObject,
  encodeContinue,
  encodeObject,
  jsonEqual,
  MAX_OBJECT_BYTES,
  prefixEnd,
  tooLargeResourceVersion,
} from "./codec.js";
import { isCompactedError } from "./etcd.js";

const ref = { r: { group: "apps", resource: "deployments" }, namespace: "ns", name: "d" };

test("prefixEnd is the first key after every key with the prefix", () => {
  assert.deepEqual(prefixEnd(Buffer.from("/registry/pods/")), Buffer.from("/registry/pods0"));
  assert.deepEqual(prefixEnd(Buffer.from([0x61, 0xff])), Buffer.from([0x62]));
  assert.deepEqual(prefixEnd(Buffer.from([0xff, 0xff])), Buffer.from([0]));
});

test("encodeObject drops resourceVersion; decodeObject stamps the revision", () => {
  const obj = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", resourceVersion: "7" }, data: { k: "v" } };
  const buf = encodeObject(ref, obj);
  assert.equal(JSON.parse(buf.toString()).metadata.resourceVersion, undefined);
  assert.equal(obj.metadata.resourceVersion, "7", "the input is not modified");
  const back = decodeObject(buf, 42);
  assert.equal(back.metadata.resourceVersion, "42");
  assert.deepEqual(back.data, { k: "v" });
});

test("encodeObject refuses objects over 1.5 MiB with 413 naming the object", () => {
  const big = { metadata: { name: "d" }, data: { x: "y".repeat(MAX_OBJECT_BYTES) } };
  assert.throws(
    () => encodeObject(ref, big),
    (e) =>
      e instanceof StatusError &&
      e.code === 413 &&
      e.reason === "RequestEntityTooLarge" &&
      /deployments.apps "d"/.test(e.message),
  );
});

test("continue tokens use upstream's shape and reject tampering", () => {
  const t = encodeContinue(12, "ns/a\u0000");
  assert.deepEqual(JSON.parse(Buffer.from(t, "base64").toString()), {
    v: "meta.k8s.io/v1",
    rv: 12,
    start: "ns/a\u0000",
  });
  assert.deepEqual(decodeContinue(t), { rev: 12, start: "ns/a\u0000" });
  for (const bad of [
    "%%%",
    encodeContinue(0, "x"),
    Buffer.from('{"v":"meta.k8s.io/v1","rv":3}').toString("base64"),
    encodeContinue(3, "/abs"),
  ])
    assert.throws(
      () => decodeContinue(bad),
      (e) => e instanceof StatusError && e.code === 400,
      bad,
    );
});

test("error helpers", () => {
  assert.equal(isCompactedError(new Error("etcdserver: mvcc: required revision has been compacted")), true);
  assert.equal(isCompactedError(new Error("other")), false);
  const e = tooLargeResourceVersion(10, 5);
  assert.equal(e.code, 504);
  assert.equal(e.message, "Too large resource version: 10, current: 5");
});

test("jsonEqual ignores key order and undefined members, not array order", () => {
  assert.equal(jsonEqual({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 }), true);
  assert.equal(jsonEqual({ a: 1, x: undefined }, { a: 1 }), true);
  assert.equal(jsonEqual({ a: [1, 2] }, { a: [2, 1] }), false);
  assert.equal(jsonEqual({ a: 1 }, { a: 1, b: 2 }), false);
  assert.equal(jsonEqual({ a: null }, { a: {} }), false);
  assert.equal(jsonEqual([], {}), false);
  assert.equal(jsonEqual("1", 1), false);
});
