import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding } from "#pkg/api/types/rbac.js";
import { type Attributes, resourceAttributes } from "../authorizer/authorizer.js";
import type { UserInfo } from "../user.js";
import { RbacAuthorizer } from "./authorizer.js";
import { bootstrapClusterRoleBindings, bootstrapClusterRoles } from "./bootstrap-policy.js";
import { compactRules, compactString, covers, escalationError } from "./escalation.js";
import { type RbacSource, RuleResolver } from "./resolver.js";
import { ruleAllows } from "./rule.js";

const jane: UserInfo = { name: "jane", uid: "", groups: ["devs", "system:authenticated"] };
const res = (verb: string, resource: string, o: Partial<Attributes> = {}): Attributes =>
  resourceAttributes(jane, { verb, resource, ...o });
const url = (verb: string, path: string): Attributes => ({ ...res(verb, ""), resourceRequest: false, path });

function source(o: {
  roles?: Role[];
  roleBindings?: RoleBinding[];
  clusterRoles?: ClusterRole[];
  clusterRoleBindings?: ClusterRoleBinding[];
}): RbacSource {
  return {
    getRole: (ns, name) => o.roles?.find((r) => r.metadata.namespace === ns && r.metadata.name === name),
    listRoleBindings: (ns) => (o.roleBindings ?? []).filter((b) => b.metadata.namespace === ns),
    getClusterRole: (name) => o.clusterRoles?.find((r) => r.metadata.name === name),
    listClusterRoleBindings: () => o.clusterRoleBindings ?? [],
  };
}
const clusterRole = (name: string, rules: PolicyRule[]): ClusterRole => ({ metadata: { name }, rules });
const role = (ns: string, name: string, rules: PolicyRule[]): Role => ({ metadata: { name, namespace: ns }, rules });
const ref = (kind: "Role" | "ClusterRole", name: string) => ({ apiGroup: "rbac.authorization.k8s.io", kind, name });

describe("ruleAllows (upstream RuleAllows)", () => {
  test("verbs, groups, resources, subresources, names, wildcards", () => {
    const r: PolicyRule = { verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "pods/log"] };
    assert.ok(ruleAllows(res("get", "pods"), r));
    assert.ok(ruleAllows(res("get", "pods", { subresource: "log" }), r));
    assert.ok(!ruleAllows(res("get", "pods", { subresource: "exec" }), r));
    assert.ok(!ruleAllows(res("delete", "pods"), r));
    assert.ok(!ruleAllows(res("get", "pods", { apiGroup: "apps" }), r));
    assert.ok(ruleAllows(res("delete", "x", { apiGroup: "y" }), { verbs: ["*"], apiGroups: ["*"], resources: ["*"] }));
    const scale: PolicyRule = { verbs: ["get"], apiGroups: ["*"], resources: ["*/scale"] };
    assert.ok(ruleAllows(res("get", "deployments", { apiGroup: "apps", subresource: "scale" }), scale));
    assert.ok(!ruleAllows(res("get", "deployments", { apiGroup: "apps" }), scale));
    const named: PolicyRule = { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] };
    assert.ok(ruleAllows(res("get", "configmaps", { name: "a" }), named));
    assert.ok(!ruleAllows(res("get", "configmaps", { name: "b" }), named));
    assert.ok(!ruleAllows(res("list", "configmaps"), { ...named, verbs: ["list"] }));
  });
  test("non-resource URLs: exact and trailing-* prefix", () => {
    const r: PolicyRule = { verbs: ["get"], nonResourceURLs: ["/healthz", "/apis/*"] };
    assert.ok(ruleAllows(url("get", "/healthz"), r));
    assert.ok(ruleAllows(url("get", "/apis/apps/v1"), r));
    assert.ok(!ruleAllows(url("get", "/apis"), r));
    assert.ok(!ruleAllows(url("post", "/healthz"), r));
    assert.ok(!ruleAllows(res("get", "healthz"), r));
  });
});

describe("the RBAC authorizer", () => {
  const viewPods = clusterRole("view-pods", [{ verbs: ["get", "list"], apiGroups: [""], resources: ["pods"] }]);
  const src = source({
    clusterRoles: [viewPods],
    roles: [role("team", "cm-editor", [{ verbs: ["*"], apiGroups: [""], resources: ["configmaps"] }])],
    clusterRoleBindings: [
      {
        metadata: { name: "devs-view" },
        roleRef: ref("ClusterRole", "view-pods"),
        subjects: [{ kind: "Group", name: "devs" }],
      },
      {
        metadata: { name: "dangling" },
        roleRef: ref("ClusterRole", "gone"),
        subjects: [{ kind: "User", name: "jane" }],
      },
    ],
    roleBindings: [
      {
        metadata: { name: "cm", namespace: "team" },
        roleRef: ref("Role", "cm-editor"),
        subjects: [{ kind: "User", name: "jane" }],
      },
      {
        metadata: { name: "sa", namespace: "team" },
        roleRef: ref("ClusterRole", "view-pods"),
        subjects: [{ kind: "ServiceAccount", name: "robot" }],
      },
    ],
  });
  const authz = new RbacAuthorizer(new RuleResolver(src));

  test("allowed by a ClusterRoleBinding to a group, with upstream's reason", () => {
    const r = authz.authorize(res("list", "pods", { namespace: "other" }));
    assert.deepEqual(r, {
      decision: "Allow",
      reason: 'RBAC: allowed by ClusterRoleBinding "devs-view" of ClusterRole "view-pods" to Group "devs"',
    });
  });
  test("a RoleBinding applies in its namespace only", () => {
    assert.equal(authz.authorize(res("delete", "configmaps", { namespace: "team" })).decision, "Allow");
    assert.equal(authz.authorize(res("delete", "configmaps", { namespace: "other" })).decision, "NoOpinion");
    assert.equal(authz.authorize(res("delete", "configmaps")).decision, "NoOpinion");
  });
  test("a missing role is the denial's reason", () => {
    assert.deepEqual(authz.authorize(res("delete", "pods", { namespace: "x" })), {
      decision: "NoOpinion",
      reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found',
    });
  });
  test("service account subjects default to the binding's namespace", () => {
    const robot: UserInfo = { name: "system:serviceaccount:team:robot", uid: "", groups: [] };
    assert.equal(authz.authorize({ ...res("get", "pods", { namespace: "team" }), user: robot }).decision, "Allow");
    const other: UserInfo = { name: "system:serviceaccount:other:robot", uid: "", groups: [] };
    assert.equal(authz.authorize({ ...res("get", "pods", { namespace: "team" }), user: other }).decision, "NoOpinion");
  });
  test("rulesFor lists resource and non-resource rules, and resolution errors", () => {
    const r = authz.rulesFor(jane, "team");
    assert.deepEqual(r.resourceRules, [
      { verbs: ["get", "list"], apiGroups: [""], resources: ["pods"], resourceNames: [] },
      { verbs: ["*"], apiGroups: [""], resources: ["configmaps"], resourceNames: [] },
    ]);
    assert.equal(r.error, 'clusterrole.rbac.authorization.k8s.io "gone" not found');
  });

  test("the bootstrap policy: system:masters has cluster-admin, the anonymous user /healthz only", () => {
    const policy = new RbacAuthorizer(
      new RuleResolver(
        source({ clusterRoles: bootstrapClusterRoles(), clusterRoleBindings: bootstrapClusterRoleBindings() }),
      ),
    );
    const admin: UserInfo = { name: "root", uid: "", groups: ["system:masters", "system:authenticated"] };
    assert.equal(policy.authorize({ ...res("delete", "nodes"), user: admin }).decision, "Allow");
    const anon: UserInfo = { name: "system:anonymous", uid: "", groups: ["system:unauthenticated"] };
    assert.equal(policy.authorize({ ...url("get", "/healthz"), user: anon }).decision, "Allow");
    assert.equal(policy.authorize({ ...url("get", "/version"), user: anon }).decision, "Allow");
    assert.equal(policy.authorize({ ...url("get", "/api"), user: anon }).decision, "NoOpinion");
    assert.equal(policy.authorize({ ...url("get", "/api"), user: jane }).decision, "Allow");
    assert.equal(policy.authorize({ ...url("get", "/metrics"), user: jane }).decision, "NoOpinion");
    const ssar = res("create", "selfsubjectaccessreviews", { apiGroup: "authorization.k8s.io" });
    assert.equal(policy.authorize(ssar).decision, "Allow");
    const scheduler: UserInfo = { name: "system:kube-scheduler", uid: "", groups: ["system:authenticated"] };
    const bind = res("create", "pods", { subresource: "binding", namespace: "default", name: "p" });
    assert.equal(policy.authorize({ ...bind, user: scheduler }).decision, "Allow");
    // system:volume-scheduler: VolumeBinding sets a claim's selected node and pre-binds PVs.
    const claimUpdate = res("update", "persistentvolumeclaims", { namespace: "default", name: "c" });
    assert.equal(policy.authorize({ ...claimUpdate, user: scheduler }).decision, "Allow");
    assert.equal(
      policy.authorize({ ...res("update", "persistentvolumes", { name: "pv" }), user: scheduler }).decision,
      "Allow",
    );
    const classes = res("watch", "storageclasses", { apiGroup: "storage.k8s.io" });
    assert.equal(policy.authorize({ ...classes, user: scheduler }).decision, "Allow");
    // Kubelets get nothing from RBAC: the system:node binding has no subjects (the Node authorizer serves them).
    const kubelet: UserInfo = { name: "system:node:n1", uid: "", groups: ["system:nodes", "system:authenticated"] };
    assert.equal(policy.authorize({ ...res("get", "nodes", { name: "n1" }), user: kubelet }).decision, "NoOpinion");
    // Service account issuer discovery: every ServiceAccount, nobody else (upstream's binding).
    const sa: UserInfo = {
      name: "system:serviceaccount:ns:a",
      uid: "u",
      groups: ["system:serviceaccounts", "system:serviceaccounts:ns", "system:authenticated"],
    };
    for (const path of ["/.well-known/openid-configuration", "/openid/v1/jwks"]) {
      assert.equal(policy.authorize({ ...url("get", path), user: sa }).decision, "Allow", path);
      assert.equal(policy.authorize({ ...url("get", path), user: jane }).decision, "NoOpinion", path);
      assert.equal(policy.authorize({ ...url("get", path), user: anon }).decision, "NoOpinion", path);
    }
    // TokenRequest: edit (and so admin) may, view may not.
    const edit = bootstrapClusterRoles().find((r) => r.metadata.name === "system:aggregate-to-edit");
    assert.ok(
      edit?.rules?.some((r) => r.verbs.includes("create") && r.resources?.includes("serviceaccounts/token")),
      "edit creates serviceaccounts/token",
    );
  });
});

describe("escalation checks (upstream Covers, CompactRules, ConfirmNoEscalation)", () => {
  test("covers: breakdown, *, */subresource, names, URLs", () => {
    const owner: PolicyRule[] = [
      { verbs: ["get", "list"], apiGroups: [""], resources: ["pods", "*/status"] },
      { verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a", "b"] },
      { verbs: ["get"], nonResourceURLs: ["/apis/*"] },
    ];
    assert.deepEqual(
      covers(owner, [{ verbs: ["get"], apiGroups: [""], resources: ["pods", "nodes/status"] }]).covered,
      true,
    );
    assert.deepEqual(
      covers(owner, [{ verbs: ["get"], apiGroups: [""], resources: ["configmaps"], resourceNames: ["a"] }]).covered,
      true,
    );
    // Named permission does not cover the whole collection.
    assert.deepEqual(covers(owner, [{ verbs: ["get"], apiGroups: [""], resources: ["configmaps"] }]).missing, [
      { verbs: ["get"], apiGroups: [""], resources: ["configmaps"] },
    ]);
    assert.equal(covers(owner, [{ verbs: ["get"], nonResourceURLs: ["/apis/apps"] }]).covered, true);
    assert.equal(covers(owner, [{ verbs: ["get"], nonResourceURLs: ["/api"] }]).covered, false);
    assert.equal(
      covers(
        [{ verbs: ["*"], apiGroups: ["*"], resources: ["*"] }],
        [{ verbs: ["x"], apiGroups: ["y"], resources: ["z"] }],
      ).covered,
      true,
    );
    const { missing } = covers(owner, [{ verbs: ["get", "delete", "create"], apiGroups: [""], resources: ["pods"] }]);
    assert.deepEqual(compactRules(missing), [{ apiGroups: [""], resources: ["pods"], verbs: ["delete", "create"] }]);
  });

  test("the message names the user, groups and what is missing", () => {
    const resolver = new RuleResolver(
      source({
        clusterRoles: [clusterRole("pods", [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }])],
        clusterRoleBindings: [
          { metadata: { name: "b" }, roleRef: ref("ClusterRole", "pods"), subjects: [{ kind: "User", name: "jane" }] },
        ],
      }),
    );
    assert.equal(
      escalationError(resolver, jane, "ns", [{ verbs: ["get"], apiGroups: [""], resources: ["pods"] }]),
      undefined,
    );
    assert.equal(
      escalationError(resolver, jane, "ns", [
        { verbs: ["get", "delete"], apiGroups: [""], resources: ["pods", "secrets"] },
        { verbs: ["get"], nonResourceURLs: ["/metrics"] },
      ]),
      'user "jane" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n' +
        '{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}\n' +
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete"]}\n' +
        '{NonResourceURLs:["/metrics"], Verbs:["get"]}',
    );
    assert.equal(
      compactString({ verbs: ["get"], apiGroups: [""], resources: ["cm"], resourceNames: ["a"] }),
      '{APIGroups:[""], Resources:["cm"], ResourceNames:["a"], Verbs:["get"]}',
    );
  });
});
