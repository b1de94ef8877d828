import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod } from "#pkg/api/types/index.js";
import { resourceAttributes } from "../authorizer/authorizer.js";
import { nodeRules } from "../rbac/bootstrap-policy.js";
import { NodeAuthorizer } from "./node-authorizer.js";

const pods: Pod[] = [
  {
    metadata: { name: "web", namespace: "app" },
    spec: {
      nodeName: "n1",
      serviceAccountName: "web-sa",
      containers: [
        { name: "c", image: "i", env: [{ name: "A", valueFrom: { secretKeyRef: { name: "env-secret", key: "k" } } }] },
      ],
      volumes: [
        { name: "cfg", configMap: { name: "web-config" } },
        { name: "data", persistentVolumeClaim: { claimName: "web-data" } },
      ],
    },
  },
  {
    metadata: { name: "db", namespace: "app" },
    spec: { nodeName: "n2", containers: [], volumes: [{ name: "s", secret: { secretName: "db-secret" } }] },
  },
];
const claimVolumes: Record<string, string> = { "app/web-data": "pv-web" };
const authz = new NodeAuthorizer(
  {
    podsOnNode: (n) => pods.filter((p) => p.spec?.nodeName === n),
    claimVolumeName: (ns, name) => claimVolumes[`${ns}/${name}`],
  },
  nodeRules(),
);
const kubelet = (node: string) => ({
  name: `system:node:${node}`,
  uid: "",
  groups: ["system:nodes", "system:authenticated"],
});
const ask = (node: string, verb: string, resource: string, o: Record<string, string> = {}) =>
  authz.authorize(resourceAttributes(kubelet(node), { verb, resource, ...o }));

test("a kubelet reads the secrets, configmaps and claims of its own pods only", () => {
  assert.equal(ask("n1", "get", "secrets", { namespace: "app", name: "env-secret" }).decision, "Allow");
  assert.equal(ask("n1", "watch", "configmaps", { namespace: "app", name: "web-config" }).decision, "Allow");
  assert.equal(ask("n1", "get", "persistentvolumeclaims", { namespace: "app", name: "web-data" }).decision, "Allow");
  assert.deepEqual(ask("n1", "get", "secrets", { namespace: "app", name: "db-secret" }), {
    decision: "NoOpinion",
    reason: 'no relationship found between node "n1" and this object',
  });
  assert.equal(ask("n2", "get", "secrets", { namespace: "app", name: "db-secret" }).decision, "Allow");
  assert.equal(ask("n1", "list", "secrets", { namespace: "app" }).reason, "No Object name found");
  assert.equal(
    ask("n1", "delete", "secrets", { namespace: "app", name: "env-secret" }).reason,
    "can only read resources of this type",
  );
  assert.equal(ask("n1", "get", "secrets", { namespace: "other", name: "env-secret" }).decision, "NoOpinion");
});

test("a kubelet gets the PVs its pods' claims are bound to, nothing more", () => {
  assert.equal(ask("n1", "get", "persistentvolumes", { name: "pv-web" }).decision, "Allow");
  assert.equal(ask("n2", "get", "persistentvolumes", { name: "pv-web" }).decision, "NoOpinion");
  assert.equal(ask("n1", "get", "persistentvolumes", { name: "pv-other" }).decision, "NoOpinion");
  assert.equal(ask("n1", "list", "persistentvolumes").reason, "can only get individual resources of this type");
  assert.equal(
    ask("n1", "update", "persistentvolumeclaims", { namespace: "app", name: "web-data" }).decision,
    "NoOpinion",
  );
});

test("tokens only for its pods' service accounts; its own lease only", () => {
  assert.equal(
    ask("n1", "create", "serviceaccounts", { namespace: "app", name: "web-sa", subresource: "token" }).decision,
    "Allow",
  );
  assert.equal(
    ask("n2", "create", "serviceaccounts", { namespace: "app", name: "web-sa", subresource: "token" }).decision,
    "NoOpinion",
  );
  const lease = { apiGroup: "coordination.k8s.io", namespace: "kube-node-lease" };
  assert.equal(ask("n1", "update", "leases", { ...lease, name: "n1" }).decision, "Allow");
  assert.equal(ask("n1", "create", "leases", lease).decision, "Allow");
  assert.equal(
    ask("n1", "update", "leases", { ...lease, name: "n2" }).reason,
    "can only access node lease with the same name as the requesting node",
  );
});

test("everything else from the static node rules; other users get no opinion", () => {
  assert.equal(ask("n1", "patch", "nodes", { subresource: "status", name: "n1" }).decision, "Allow");
  assert.equal(ask("n1", "update", "pods", { subresource: "status", namespace: "app", name: "web" }).decision, "Allow");
  assert.equal(
    ask("n1", "delete", "deployments", { apiGroup: "apps", namespace: "app", name: "d" }).decision,
    "NoOpinion",
  );
  const other = { name: "jane", uid: "", groups: ["system:nodes"] };
  assert.equal(authz.authorize(resourceAttributes(other, { verb: "get", resource: "nodes" })).decision, "NoOpinion");
  assert.equal(authz.rulesFor(kubelet("n1")).incomplete, true);
});
