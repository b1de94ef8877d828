import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { OwnerReference } from "#pkg/api/meta.js";
import {
  GraphNode,
  getAlternateOwnerIdentity,
  type ObjectReference,
  partitionDependents,
  ReferenceCache,
  referencesDiffs,
} from "./graph.js";

const id = (name: string, uid: string, namespace = "ns", kind = "ConfigMap", apiVersion = "v1"): ObjectReference => ({
  apiVersion,
  kind,
  name,
  uid,
  namespace,
});
const ref = (name: string, uid: string, o: Partial<OwnerReference> = {}): OwnerReference => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  name,
  uid,
  ...o,
});

describe("graph", () => {
  test("blockingDependents: only references to this node with blockOwnerDeletion true", () => {
    const owner = new GraphNode(id("o", "u-o"));
    const blocking = new GraphNode(id("a", "u-a"), { owners: [ref("o", "u-o", { blockOwnerDeletion: true })] });
    const plain = new GraphNode(id("b", "u-b"), { owners: [ref("o", "u-o")] });
    const other = new GraphNode(id("c", "u-c"), {
      owners: [ref("o", "u-o", { blockOwnerDeletion: false }), ref("x", "u-x", { blockOwnerDeletion: true })],
    });
    for (const d of [blocking, plain, other]) owner.dependents.add(d);
    assert.deepEqual(owner.blockingDependents(), [blocking]);
  });

  test("referencesDiffs: added, removed, and changed by uid (nil and false differ, as DeepEqual)", () => {
    const d = referencesDiffs(
      [ref("a", "1"), ref("b", "2", { blockOwnerDeletion: true }), ref("c", "3")],
      [
        ref("a", "1"),
        ref("b", "2", { blockOwnerDeletion: false }),
        ref("d", "4"),
        ref("c", "3", { controller: false }),
      ],
    );
    assert.deepEqual(
      d.added.map((r) => r.uid),
      ["4"],
    );
    assert.deepEqual(d.removed, []);
    assert.deepEqual(
      d.changed.map((c) => [c.oldRef.uid, c.newRef.blockOwnerDeletion ?? null]),
      [
        ["2", false],
        ["3", null],
      ],
    );
    assert.deepEqual(
      referencesDiffs([ref("a", "1")], []).removed.map((r) => r.uid),
      ["1"],
    );
  });

  test("partitionDependents: coordinates and namespace decide; a dependent can be in both", () => {
    const owner = id("o", "u");
    const good = new GraphNode(id("g", "g"), { owners: [ref("o", "u")] });
    const renamed = new GraphNode(id("r", "r"), { owners: [ref("other", "u")] });
    const elsewhere = new GraphNode(id("e", "e", "other-ns"), { owners: [ref("o", "u")] });
    const both = new GraphNode(id("b", "b"), { owners: [ref("o", "u"), ref("o", "u", { kind: "Secret" })] });
    const { matching, nonmatching } = partitionDependents([good, renamed, elsewhere, both], owner);
    assert.deepEqual(
      matching.map((n) => n.identity.name),
      ["g", "b"],
    );
    assert.deepEqual(
      nonmatching.map((n) => n.identity.name),
      ["r", "e", "b"],
    );
    // A cluster-scoped owner may be named from any namespace.
    const cluster = partitionDependents([elsewhere], id("o", "u", ""));
    assert.deepEqual([cluster.matching.length, cluster.nonmatching.length], [1, 0]);
  });

  test("getAlternateOwnerIdentity: the next identity after the absent one, else the first", () => {
    const absent = id("b", "u");
    const deps = [
      new GraphNode(id("d1", "d1"), { owners: [ref("a", "u")] }),
      new GraphNode(id("d2", "d2"), { owners: [ref("b", "u")] }),
      new GraphNode(id("d3", "d3"), { owners: [ref("c", "u")] }),
    ];
    assert.equal(getAlternateOwnerIdentity(deps, absent)?.name, "c");
    assert.equal(getAlternateOwnerIdentity(deps, id("c", "u"))?.name, "a");
    assert.equal(getAlternateOwnerIdentity([deps[1] as GraphNode], absent), undefined);
  });

  test("ReferenceCache: bounded, least recently used goes first", () => {
    const c = new ReferenceCache(2);
    c.add(id("a", "1"));
    c.add(id("b", "2"));
    assert.ok(c.has(id("a", "1")));
    c.add(id("c", "3"));
    assert.equal(c.size, 2);
    assert.ok(c.has(id("a", "1")));
    assert.ok(!c.has(id("b", "2")));
    assert.ok(c.has(id("c", "3")));
    assert.ok(!c.has(id("a", "1", "other")), "the namespace is part of the key");
  });
});
