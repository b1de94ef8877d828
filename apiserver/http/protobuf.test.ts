import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeProtobuf } from "./protobuf.js";

// A tiny encoder, as Go's marshaller writes: length-delimited fields, empty strings included.
const varint = (n: number): number[] => {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
};
const field = (num: number, body: Buffer): Buffer =>
  Buffer.concat([Buffer.from([...varint((num << 3) | 2), ...varint(body.length)]), body]);
const s = (num: number, v: string) => field(num, Buffer.from(v));
const msg = (...parts: Buffer[]) => Buffer.concat(parts);
const envelope = (apiVersion: string, kind: string, raw: Buffer) =>
  Buffer.concat([Buffer.from([0x6b, 0x38, 0x73, 0x00]), field(1, msg(s(1, apiVersion), s(2, kind))), field(2, raw)]);

test("a ClusterRoleBinding from kubectl 1.32's create clusterrolebinding", () => {
  const creationTimestamp = field(8, Buffer.alloc(0));
  const body = msg(
    field(1, msg(s(1, "jane-view"), s(2, ""), s(3, ""), creationTimestamp, field(11, msg(s(1, "a"), s(2, "b"))))),
    field(2, msg(s(1, "User"), s(2, "rbac.authorization.k8s.io"), s(3, "jane"), s(4, ""))),
    field(2, msg(s(1, "ServiceAccount"), s(2, ""), s(3, "robot"), s(4, "team"))),
    field(3, msg(s(1, "rbac.authorization.k8s.io"), s(2, "ClusterRole"), s(3, "view"))),
  );
  assert.deepEqual(decodeProtobuf(envelope("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", body)), {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "jane-view", creationTimestamp: null, labels: { a: "b" } },
    subjects: [
      { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "jane" },
      { kind: "ServiceAccount", name: "robot", namespace: "team" },
    ],
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
  });
});

test("a Role keeps the core group's empty apiGroups entry; kinds without a definition are not decoded", () => {
  const rule = msg(s(1, "get"), s(1, "list"), s(2, ""), s(3, "pods"));
  const role = decodeProtobuf(
    envelope("rbac.authorization.k8s.io/v1", "Role", msg(field(1, s(1, "r")), field(2, rule))),
  );
  assert.deepEqual(role?.rules, [{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }]);
  assert.deepEqual(decodeProtobuf(envelope("v1", "Namespace", field(1, s(1, "x")))), {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: "x" },
  });
  assert.equal(decodeProtobuf(envelope("example.com/v1", "Widget", field(1, s(1, "x")))), undefined);
  assert.throws(() => decodeProtobuf(Buffer.from("{}")), /envelope/);
});
