import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LAST_APPLIED, lastAppliedValue, readLastApplied, threeWayMergePatch, withLastApplied } from "./applypatch.js";

const manifest = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", labels: { app: "web" } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "web", image: "busybox", env: [{ name: "A", value: "1" }] }] },
    },
  },
};

/** What the server stores: the applied object plus defaults and server fields. */
function live(applied: Record<string, unknown>): Record<string, unknown> {
  const obj = structuredClone(applied) as typeof manifest & { status?: unknown };
  Object.assign(obj.metadata, { namespace: "default", uid: "u1", resourceVersion: "5", generation: 1 });
  const c = obj.spec.template.spec.containers[0] as Record<string, unknown>;
  c.imagePullPolicy = "IfNotPresent";
  c.terminationMessagePath = "/dev/termination-log";
  Object.assign(obj.spec, { strategy: { type: "RollingUpdate" }, revisionHistoryLimit: 10 });
  obj.status = { replicas: 2 };
  return obj;
}

describe("client-side apply patch", () => {
  test("last-applied is compact JSON with a trailing newline and empty annotations", () => {
    const v = lastAppliedValue(manifest);
    assert.ok(v.endsWith("}\n"));
    assert.deepEqual(JSON.parse(v).metadata.annotations, {});
    const m = withLastApplied(manifest) as typeof manifest & { metadata: { annotations: Record<string, string> } };
    assert.equal(m.metadata.annotations[LAST_APPLIED], v);
  });

  test("re-applying the same manifest yields an empty patch despite server defaults", () => {
    const current = live(withLastApplied(manifest));
    const patch = threeWayMergePatch(readLastApplied(current as never), withLastApplied(manifest), current);
    assert.deepEqual(patch, {});
  });

  test("a changed scalar is patched and the annotation updated", () => {
    const current = live(withLastApplied(manifest));
    const next = structuredClone(manifest);
    next.spec.replicas = 3;
    const patch = threeWayMergePatch(readLastApplied(current as never), withLastApplied(next), current) as {
      spec: unknown;
      metadata: { annotations: Record<string, string> };
    };
    assert.deepEqual(patch.spec, { replicas: 3 });
    assert.equal(JSON.parse(patch.metadata.annotations[LAST_APPLIED] ?? "{}").spec.replicas, 3);
  });

  test("fields removed from the manifest since last-applied become null", () => {
    const current = live(withLastApplied(manifest));
    const next = structuredClone(manifest) as Record<string, unknown> & typeof manifest;
    delete (next.metadata as { labels?: unknown }).labels;
    const patch = threeWayMergePatch(readLastApplied(current as never), withLastApplied(next), current) as {
      metadata: Record<string, unknown>;
    };
    assert.equal(patch.metadata.labels, null);
  });

  test("a field removed inside a list item resends the whole list", () => {
    const current = live(withLastApplied(manifest));
    const next = structuredClone(manifest);
    delete (next.spec.template.spec.containers[0] as { env?: unknown }).env;
    const patch = threeWayMergePatch(readLastApplied(current as never), withLastApplied(next), current) as {
      spec: { template: { spec: { containers: unknown[] } } };
    };
    assert.deepEqual(patch.spec.template.spec.containers, [{ name: "web", image: "busybox" }]);
  });

  test("fields set by others (not in last-applied) are left alone", () => {
    const current = live(withLastApplied(manifest));
    (current.metadata as { annotations: Record<string, string> }).annotations.other = "x";
    const patch = threeWayMergePatch(readLastApplied(current as never), withLastApplied(manifest), current);
    assert.deepEqual(patch, {});
  });

  test("without last-applied, drifted lists are resent (first apply over a created object)", () => {
    const current = live(manifest);
    const patch = threeWayMergePatch(undefined, withLastApplied(manifest), current) as {
      metadata: { annotations: Record<string, string> };
      spec?: unknown;
    };
    assert.ok(patch.metadata.annotations[LAST_APPLIED]);
  });
});
