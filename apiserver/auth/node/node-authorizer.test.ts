import assert from "node:assert/strict";
import { test } from "node:test";
import type { Pod } from "#pkg/api/types/index.js";
import { resourceAttributes } from "../authorizer/authorizer.js";
import { attributesOf, requestInfo } from "../authorizer/request-info.js";
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
/** A GET of url as node, its attributes built as the API server builds them (field selector included). */
const askGet = (node: string, url: string) => {
  const u = new URL(url, "https://api");
  return authz.authorize(attributesOf(kubelet(node), requestInfo("GET", u.pathname, u.searchParams)));
};
const sel = (s: string) => encodeURIComponent(s);

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

test("AuthorizeNodeWithSelectors: a kubelet reads only its own Node", () => {
  assert.equal(askGet("n1", "/api/v1/nodes/n1").decision, "Allow");
  assert.equal(askGet("n1", `/api/v1/nodes?fieldSelector=${sel("metadata.name=n1")}`).decision, "Allow");
  assert.equal(askGet("n1", `/api/v1/nodes?watch=1&fieldSelector=${sel("metadata.name==n1")}`).decision, "Allow");
  // Before it exists: the name is compared, not looked up.
  assert.equal(askGet("unregistered", "/api/v1/nodes/unregistered").decision, "Allow");
  assert.deepEqual(askGet("n1", "/api/v1/nodes/n2"), {
    decision: "NoOpinion",
    reason: "node 'n1' cannot read 'n2', only its own Node object",
  });
  assert.equal(
    askGet("n1", `/api/v1/nodes?fieldSelector=${sel("metadata.name=n2")}`).reason,
    "node 'n1' cannot read 'n2', only its own Node object",
  );
  for (const url of [
    "/api/v1/nodes",
    "/api/v1/nodes?watch=true",
    `/api/v1/nodes?fieldSelector=${sel("metadata.name!=n1")}`,
  ]) {
    assert.deepEqual(askGet("n1", url), {
      decision: "NoOpinion",
      reason: "node 'n1' cannot read all nodes, only its own Node object",
    });
  }
  // Writes stay NodeRestriction's to narrow; other subresources are not a kubelet's.
  assert.equal(ask("n1", "create", "nodes").decision, "Allow");
  assert.equal(ask("n1", "patch", "nodes", { name: "n2" }).decision, "Allow");
  assert.equal(ask("n1", "update", "nodes", { subresource: "status", name: "n1" }).decision, "Allow");
  assert.equal(ask("n1", "delete", "nodes", { name: "n1" }).decision, "NoOpinion");
  assert.equal(ask("n1", "get", "nodes", { subresource: "proxy", name: "n1" }).decision, "NoOpinion");
});

test("AuthorizeNodeWithSelectors: pods listed and watched only with spec.nodeName=<self>", () => {
  const own = sel("spec.nodeName=n1");
  assert.equal(askGet("n1", `/api/v1/pods?fieldSelector=${own}`).decision, "Allow");
  assert.equal(askGet("n1", `/api/v1/pods?watch=1&fieldSelector=${sel("spec.nodeName==n1")}`).decision, "Allow");
  assert.equal(
    askGet("n1", `/api/v1/namespaces/app/pods?fieldSelector=${sel("status.phase=Running,spec.nodeName=n1")}`).decision,
    "Allow",
  );
  const denied = "can only list/watch pods with spec.nodeName field selector";
  for (const url of [
    "/api/v1/pods",
    "/api/v1/pods?watch=1",
    `/api/v1/pods?fieldSelector=${sel("spec.nodeName=n2")}`,
    `/api/v1/pods?fieldSelector=${sel("spec.nodeName!=n1")}`,
    `/api/v1/pods?fieldSelector=${sel("spec.nodeName=")}`,
    `/api/v1/pods?labelSelector=${sel("spec.nodeName=n1")}`,
    "/api/v1/namespaces/app/pods",
  ]) {
    assert.deepEqual(askGet("n1", url), { decision: "NoOpinion", reason: denied }, url);
  }
  // One pod by name, in a list or a get: only one bound to the node.
  assert.equal(askGet("n1", `/api/v1/namespaces/app/pods?fieldSelector=${sel("metadata.name=web")}`).decision, "Allow");
  assert.equal(askGet("n1", "/api/v1/namespaces/app/pods/web").decision, "Allow");
  assert.deepEqual(askGet("n1", "/api/v1/namespaces/app/pods/db"), {
    decision: "NoOpinion",
    reason: 'no relationship found between node "n1" and this object',
  });
  assert.equal(askGet("n2", "/api/v1/namespaces/app/pods/db").decision, "Allow");
  assert.equal(askGet("n1", "/api/v1/namespaces/app/pods/db/status").decision, "NoOpinion");
  // Mirror pods, status and eviction: NodeRestriction narrows them.
  assert.equal(ask("n1", "create", "pods", { namespace: "app" }).decision, "Allow");
  assert.equal(ask("n1", "delete", "pods", { namespace: "app", name: "db" }).decision, "Allow");
  assert.equal(ask("n1", "patch", "pods", { namespace: "app", name: "db", subresource: "status" }).decision, "Allow");
  assert.equal(
    ask("n1", "create", "pods", { namespace: "app", name: "db", subresource: "eviction" }).decision,
    "Allow",
  );
  assert.equal(ask("n1", "update", "pods", { namespace: "app", name: "web" }).decision, "NoOpinion");
  assert.equal(
    ask("n1", "create", "pods", { namespace: "app", name: "web", subresource: "exec" }).decision,
    "NoOpinion",
  );
});

test("AuthorizeNodeWithSelectors leaves the rest: services, events, CSRs, its lease", () => {
  assert.equal(askGet("n1", "/api/v1/services?watch=1").decision, "Allow");
  assert.equal(ask("n1", "create", "events", { namespace: "app" }).decision, "Allow");
  const csr = { apiGroup: "certificates.k8s.io" };
  assert.equal(ask("n1", "create", "certificatesigningrequests", csr).decision, "Allow");
  assert.equal(ask("n1", "watch", "certificatesigningrequests", csr).decision, "Allow");
  assert.equal(askGet("n1", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1").decision, "Allow");
});
