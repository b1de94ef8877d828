import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeObject } from "#pkg/api/meta.js";
import {
  isTerminating,
  markTerminating,
  namespaceFinalized,
  namespaceObject,
  prepareNamespaceForCreate,
  terminatingNamespaceError,
} from "./lifecycle.js";

test("prepareNamespaceForCreate adds the kubernetes finalizer once and sets phase Active", () => {
  const ns = namespaceObject("a") as KubeObject & { spec?: { finalizers?: string[] }; status?: { phase?: string } };
  prepareNamespaceForCreate(ns);
  prepareNamespaceForCreate(ns);
  assert.deepEqual(ns.spec?.finalizers, ["kubernetes"]);
  assert.equal(ns.status?.phase, "Active");
});

test("terminating and finalized", () => {
  const ns = namespaceObject("a");
  prepareNamespaceForCreate(ns);
  assert.equal(isTerminating(ns), false);
  const t = markTerminating(ns, "2026-01-01T00:00:00Z");
  assert.equal(isTerminating(t), true);
  assert.equal(ns.metadata.deletionTimestamp, undefined, "markTerminating copies");
  assert.equal(namespaceFinalized(t), false);
  (t as unknown as { spec: { finalizers: string[] } }).spec.finalizers = [];
  assert.equal(namespaceFinalized(t), true);
  t.metadata.finalizers = ["x"];
  assert.equal(namespaceFinalized(t), false);
});

test("the terminating-namespace error is upstream's 403", () => {
  const e = terminatingNamespaceError({ group: "apps", resource: "deployments" }, "d", "team");
  assert.equal(e.code, 403);
  assert.equal(
    e.message,
    'deployments.apps "d" is forbidden: unable to create new content in namespace team because it is being terminated',
  );
  assert.equal(e.details?.causes?.[0]?.reason, "NamespaceTerminating");
});
