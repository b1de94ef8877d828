import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { StatefulSet } from "#pkg/api/types/apps.js";
import type { Pod, PodTemplateSpec } from "#pkg/api/types/core.js";
import type { PersistentVolumeClaim } from "#pkg/api/types/storage.js";
import {
  claimsFor,
  identityMatches,
  inOrdinalRange,
  newStatefulSetPod,
  parentAndOrdinal,
  retentionMatches,
  retentionOwnerRefs,
  storageMatches,
} from "./util.js";

const set = (o: Partial<NonNullable<StatefulSet["spec"]>> = {}): StatefulSet => ({
  apiVersion: "apps/v1",
  kind: "StatefulSet",
  metadata: { name: "web", namespace: "default", uid: "set-uid" },
  spec: {
    replicas: 3,
    serviceName: "nginx",
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "c", image: "x" }] } },
    volumeClaimTemplates: [{ metadata: { name: "www" }, spec: { accessModes: ["ReadWriteOnce"] } }],
    ...o,
  },
});

describe("stateful pod identity and storage", () => {
  test("ordinals from names; the range honours ordinals.start", () => {
    assert.deepEqual(parentAndOrdinal({ metadata: { name: "my-web-12" } }), { parent: "my-web", ordinal: 12 });
    assert.equal(parentAndOrdinal({ metadata: { name: "web" } }).ordinal, -1);
    const s = set({ ordinals: { start: 5 }, replicas: 2 });
    assert.equal(inOrdinalRange({ metadata: { name: "web-4" } }, s), false);
    assert.equal(inOrdinalRange({ metadata: { name: "web-6" } }, s), true);
    assert.equal(inOrdinalRange({ metadata: { name: "web-7" } }, s), false);
  });

  test("a new pod has its name, labels, hostname, subdomain, claim volume and revision", () => {
    const s = set();
    const template = s.spec?.template as PodTemplateSpec;
    template.spec = {
      ...template.spec,
      containers: template.spec?.containers ?? [],
      volumes: [{ name: "www", emptyDir: {} }],
    };
    const p = newStatefulSetPod(s, template, 1, "web-abc");
    assert.equal(p.metadata.name, "web-1");
    assert.equal(p.metadata.labels?.["statefulset.kubernetes.io/pod-name"], "web-1");
    assert.equal(p.metadata.labels?.["apps.kubernetes.io/pod-index"], "1");
    assert.equal(p.metadata.labels?.["controller-revision-hash"], "web-abc");
    assert.equal(p.spec?.hostname, "web-1");
    assert.equal(p.spec?.subdomain, "nginx");
    assert.deepEqual(p.spec?.volumes, [{ name: "www", persistentVolumeClaim: { claimName: "www-web-1" } }]);
    assert.equal(p.metadata.ownerReferences?.[0]?.controller, true);
    assert.ok(identityMatches(s, { ...p, metadata: { ...p.metadata, namespace: "default" } }));
    assert.ok(storageMatches(s, p));
    const [claim] = claimsFor(s, 1);
    assert.equal(claim?.metadata.name, "www-web-1");
    assert.deepEqual(claim?.metadata.labels, { app: "web" });
  });

  test("retention owners: the set's for whenDeleted Delete, the pod's once scaled away under whenScaled Delete", () => {
    const claim: PersistentVolumeClaim = { metadata: { name: "www-web-2" } };
    const pod = (name: string): Pod => ({ metadata: { name, uid: `${name}-uid` }, spec: { containers: [] } });
    const refs = (s: StatefulSet, p: Pod) => retentionOwnerRefs(claim, s, p).map((r) => r.kind);
    assert.deepEqual(refs(set(), pod("web-2")), []);
    assert.deepEqual(refs(set({ persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete" } }), pod("web-2")), [
      "StatefulSet",
    ]);
    const both = set({
      replicas: 2,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Delete", whenScaled: "Delete" },
    });
    assert.deepEqual(refs(both, pod("web-2")), ["Pod"]);
    assert.deepEqual(refs(both, pod("web-1")), ["StatefulSet"]);
    assert.equal(retentionMatches(claim, set(), pod("web-2")), true);
    assert.equal(retentionMatches(claim, both, pod("web-2")), false);
  });
});
