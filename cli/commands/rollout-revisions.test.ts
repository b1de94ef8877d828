import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { templatePatch } from "#pkg/api/template-patch.js";
import type { ControllerRevision } from "#pkg/api/types/index.js";
import { findRevision, revisionHistory, revisionTemplate } from "./rollout.js";

const rev = (revision: number, image: string, cause?: string): ControllerRevision => ({
  apiVersion: "apps/v1",
  kind: "ControllerRevision",
  metadata: { name: `web-${revision}`, ...(cause ? { annotations: { "kubernetes.io/change-cause": cause } } : {}) },
  data: templatePatch({
    spec: { template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image }] } } },
  }),
  revision,
});

describe("rollout history and undo from ControllerRevisions", () => {
  test("history rows by revision with change-cause, a revision's template, none found", () => {
    const revs = [rev(3, "b", "set image b"), rev(1, "a")];
    assert.equal(revisionHistory(revs, 0), "REVISION  CHANGE-CAUSE\n1         <none>\n3         set image b\n");
    assert.match(revisionHistory(revs, 1), /Image:\s+a\n/);
    assert.throws(() => revisionHistory(revs, 2), /unable to find the specified revision/);
    assert.equal(revisionHistory([], 0), "No rollout history found.");
  });

  test("undo's target: the one before the newest, or the one asked for; the template without the directive", () => {
    const revs = [rev(2, "b"), rev(5, "c"), rev(1, "a")];
    assert.equal(findRevision(revs, 0)?.revision, 2);
    assert.equal(findRevision(revs, 1)?.revision, 1);
    assert.equal(findRevision(revs, 4), undefined);
    const t = revisionTemplate(revs[0] as ControllerRevision) as Record<string, unknown>;
    assert.equal("$patch" in t, false);
    assert.deepEqual((t as { spec: { containers: unknown[] } }).spec.containers, [
      { image: "b", name: "c", resources: {} },
    ]);
  });
});
