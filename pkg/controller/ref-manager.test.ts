import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { notFound } from "../api/errors.js";
import { selectorFromLabelSelector } from "../api/labels.js";
import type { KubeObject } from "../api/meta.js";
import { claimObjects, recheckDeletionTimestamp } from "./ref-manager.js";

const owner: KubeObject = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "ns", uid: "owner" },
};

function obj(name: string, o: { app?: string; controller?: string; deleting?: boolean; ns?: string } = {}): KubeObject {
  return {
    metadata: {
      name,
      namespace: o.ns ?? "ns",
      uid: `uid-${name}`,
      labels: { app: o.app ?? "web" },
      ...(o.controller
        ? {
            ownerReferences: [
              { apiVersion: "apps/v1", kind: "Deployment", name: "x", uid: o.controller, controller: true },
            ],
          }
        : {}),
      ...(o.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
  };
}

function recorder(o: { adoptFails?: (name: string) => unknown } = {}) {
  const calls = { canAdopt: 0, adopted: [] as string[], released: [] as string[] };
  return {
    calls,
    opts: (ownerObj: KubeObject = owner) => ({
      owner: ownerObj,
      selector: selectorFromLabelSelector({ matchLabels: { app: "web" } }),
      canAdopt: async () => {
        calls.canAdopt++;
      },
      adopt: async (x: KubeObject) => {
        const err = o.adoptFails?.(x.metadata.name ?? "");
        if (err) throw err;
        calls.adopted.push(x.metadata.name ?? "");
        return x;
      },
      release: async (x: KubeObject) => {
        calls.released.push(x.metadata.name ?? "");
      },
    }),
  };
}

describe("claimObjects", () => {
  test("keeps owned matches, releases owned non-matches, adopts matching orphans, leaves others'", async () => {
    const r = recorder();
    const claimed = await claimObjects(
      [
        obj("mine", { controller: "owner" }),
        obj("strayed", { controller: "owner", app: "other" }),
        obj("orphan1"),
        obj("orphan2"),
        obj("theirs", { controller: "someone" }),
        obj("unmatched-orphan", { app: "other" }),
        obj("dying-orphan", { deleting: true }),
        obj("elsewhere", { ns: "other" }),
      ],
      r.opts(),
    );
    assert.deepEqual(
      claimed.map((x) => x.metadata.name),
      ["mine", "orphan1", "orphan2"],
    );
    assert.deepEqual(r.calls.released, ["strayed"]);
    assert.deepEqual(r.calls.adopted, ["orphan1", "orphan2"]);
    assert.equal(r.calls.canAdopt, 1, "one fresh read for all adoptions");
  });

  test("an owner being deleted neither adopts nor releases", async () => {
    const r = recorder();
    const deleting = { ...owner, metadata: { ...owner.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" } };
    const claimed = await claimObjects(
      [obj("mine", { controller: "owner" }), obj("strayed", { controller: "owner", app: "x" }), obj("orphan")],
      r.opts(deleting),
    );
    assert.deepEqual(
      claimed.map((x) => x.metadata.name),
      ["mine"],
    );
    assert.deepEqual(r.calls, { canAdopt: 0, adopted: [], released: [] });
  });

  test("objects gone meanwhile are skipped; other errors are thrown after trying every object", async () => {
    const r = recorder({
      adoptFails: (name) =>
        name === "gone"
          ? notFound({ group: "apps", resource: "replicasets" }, name)
          : name === "bad"
            ? new Error("boom")
            : undefined,
    });
    await assert.rejects(claimObjects([obj("gone"), obj("bad"), obj("fine")], r.opts()), /boom/);
    assert.deepEqual(r.calls.adopted, ["fine"]);
  });

  test("recheckDeletionTimestamp refuses a replaced or deleting owner", async () => {
    await recheckDeletionTimestamp(owner, async () => owner)();
    await assert.rejects(
      recheckDeletionTimestamp(owner, async () => ({ ...owner, metadata: { ...owner.metadata, uid: "new" } }))(),
      /original Deployment ns\/web is gone: got uid new, wanted owner/,
    );
    await assert.rejects(
      recheckDeletionTimestamp(owner, async () => ({
        ...owner,
        metadata: { ...owner.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" },
      }))(),
      /ns\/web has just been deleted at 2026-01-01T00:00:00Z/,
    );
  });
});
