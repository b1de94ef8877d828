// RBAC end to end against a real API server in its default authorization mode (Node,RBAC),
// driven by the real kubectl as several users, each with a client-certificate kubeconfig (CN the
// user, O its groups): the bootstrap policy, the aggregated view/edit/admin roles (the
// clusterrole-aggregation controller runs in-process), denials with upstream's messages,
// `auth can-i` (also --list and --as), `auth whoami`, `create role|clusterrole|rolebinding|
// clusterrolebinding`, escalation prevention on roles and bindings (a binding of edit needs edit
// held, or bind), anonymous requests and impersonation.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { CLUSTERROLES } from "#pkg/api/resources.js";
import type { ClusterRole } from "#pkg/api/types/rbac.js";
import { parseKubeconfig } from "#pkg/client/kubeconfig.js";
import { ClusterRoleAggregationController } from "../../controller-manager/clusterroleaggregation/clusterrole-aggregation-controller.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type RunningController, runController } from "../harness/controllers.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { raw } from "../harness/raw-http.js";
import { waitFor } from "../harness/wait.js";

let srv: TestApiServer;
let aggregation: RunningController<ClusterRoleAggregationController>;
/** kubectl as the admin (system:masters) and as each user of the token file. */
let admin: Kubectl;
const as: Record<string, Kubectl> = {};

/** Human table output as rows of cells. */
function rows(out: string): string[][] {
  return out
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s{2,}/));
}

/** kubectl auth can-i as user: waits until the answer is `want` (RBAC reads a cache that follows writes). */
async function canI(user: string, args: string[], want: "yes" | "no"): Promise<void> {
  await waitFor(async () => (await (as[user] as Kubectl).run(["auth", "can-i", ...args])).stdout.trim() === want, {
    timeoutMs: 10_000,
    message: `${user} can-i ${args.join(" ")} = ${want}`,
  });
}

/** The users kubectl runs as, each with a client-certificate kubeconfig (CN user, O groups). */
const IDENTITIES = [
  { name: "viewer", groups: ["viewers"] },
  { name: "binder", groups: ["binders"] },
  { name: "writer", groups: ["writers"] },
  { name: "alice", groups: ["devs"] },
  { name: "editor", groups: ["editors"] },
  { name: "lead", groups: ["leads"] },
];
/** Each user's kubeconfig path. */
const kubeconfigs: Record<string, string> = {};

before(async () => {
  srv = await startApiServer();
  admin = kubectlFor(srv.kubeconfigPath);
  for (const u of IDENTITIES) {
    kubeconfigs[u.name] = await srv.kubeconfigFor(u);
    as[u.name] = kubectlFor(kubeconfigs[u.name] as string);
  }
  aggregation = runController(srv, (ctx) => new ClusterRoleAggregationController(ctx));
  await admin.ok(["create", "namespace", "team"]);
});

after(async () => {
  await aggregation?.stop();
  admin?.close();
  for (const k of Object.values(as)) k.close();
  await srv?.stop();
});

describe("the bootstrap policy", () => {
  test("upstream's roles and bindings exist, labelled; view is aggregated from system:aggregate-to-view", async () => {
    const roles = rows(await admin.ok(["get", "clusterroles"]));
    assert.deepEqual(roles[0], ["NAME", "CREATED AT"]);
    const names = roles.map((r) => r[0]);
    for (const n of [
      "cluster-admin",
      "admin",
      "edit",
      "view",
      "system:basic-user",
      "system:discovery",
      "system:public-info-viewer",
      "system:monitoring",
      "system:kube-scheduler",
      "system:kube-controller-manager",
      "system:node",
      "system:node-proxier",
      "system:aggregate-to-view",
      "system:controller:replicaset-controller",
    ]) {
      assert.ok(names.includes(n), n);
    }
    const label = await admin.ok(["get", "clusterrole", "cluster-admin", "-o", "jsonpath={.metadata.labels}"]);
    assert.match(label, /"kubernetes.io\/bootstrapping":"rbac-defaults"/);
    await waitFor(
      async () => {
        const view = await srv.client.get<ClusterRole>(CLUSTERROLES, undefined, "view");
        return (view.rules ?? []).some((r) => r.resources?.includes("pods") && r.verbs.includes("list"));
      },
      { timeoutMs: 10_000, message: "view aggregated" },
    );
  });

  test("kubectl get clusterrolebinding -o wide: ROLE, USERS, GROUPS, SERVICEACCOUNTS", async () => {
    const table = rows(await admin.ok(["get", "clusterrolebinding", "-o", "wide"]));
    assert.deepEqual(table[0], ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]);
    const masters = table.find((r) => r[0] === "cluster-admin");
    assert.deepEqual([masters?.[1], masters?.[3]], ["ClusterRole/cluster-admin", "system:masters"]);
    const scheduler = table.find((r) => r[0] === "system:kube-scheduler");
    assert.equal(scheduler?.[3], "system:kube-scheduler");
    const rs = table.find((r) => r[0] === "system:controller:replicaset-controller");
    assert.deepEqual(rs?.slice(3), ["system:kube-controller-manager", "kube-system/replicaset-controller"]);
  });

  test("anonymous requests reach /healthz and /version only", async () => {
    assert.equal((await raw(srv, "GET", "/healthz", { token: null })).status, 200);
    assert.equal((await raw(srv, "GET", "/version", { token: null })).status, 200);
    const pods = await raw(srv, "GET", "/api/v1/pods", { token: null });
    assert.equal(pods.status, 403);
    assert.equal(
      pods.json.message,
      'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" at the cluster scope',
    );
    const api = await raw(srv, "GET", "/api", { token: null });
    assert.equal(api.status, 403);
    assert.equal(api.json.message, 'forbidden: User "system:anonymous" cannot get path "/api"');
    assert.equal((await raw(srv, "GET", "/api/v1/pods", { token: "nope" })).status, 401);
  });
});

describe("a user bound to view", () => {
  before(async () => {
    await admin.ok(["create", "clusterrolebinding", "viewer-view", "--clusterrole=view", "--group=viewers"]);
    await admin.ok(["run", "web", "--image=busybox", "-n", "team"]);
    await canI("viewer", ["list", "pods", "-n", "team"], "yes");
  });

  test("gets, but may not delete: 403 with upstream's message", async () => {
    assert.match(await (as.viewer as Kubectl).ok(["get", "pods", "-n", "team"]), /^web\s/m);
    const del = await (as.viewer as Kubectl).run(["delete", "pod", "web", "-n", "team"]);
    assert.equal(del.code, 1);
    assert.equal(
      del.stderr.trim(),
      'Error from server (Forbidden): pods "web" is forbidden: User "viewer" cannot delete resource "pods" in API group "" in the namespace "team"',
    );
    const secrets = await (as.viewer as Kubectl).run(["get", "secrets", "-n", "team"]);
    assert.match(
      secrets.stderr,
      /secrets is forbidden: User "viewer" cannot list resource "secrets" in API group "" in the namespace "team"/,
    );
    const nodes = await (as.viewer as Kubectl).run(["get", "nodes"]);
    assert.match(
      nodes.stderr,
      /nodes is forbidden: User "viewer" cannot list resource "nodes" in API group "" at the cluster scope/,
    );
  });

  test("kubectl auth can-i, --list and whoami", async () => {
    const k = as.viewer as Kubectl;
    assert.equal((await k.run(["auth", "can-i", "get", "pods/log", "-n", "team"])).stdout.trim(), "yes");
    const no = await k.run(["auth", "can-i", "create", "deployments.apps", "-n", "team"]);
    assert.deepEqual([no.code, no.stdout.trim()], [1, "no"]);
    const list = rows(await k.ok(["auth", "can-i", "--list", "-n", "team"]));
    assert.deepEqual(list[0], ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"]);
    assert.deepEqual(
      list.find((r) => r[0] === "pods"),
      ["pods", "[]", "[]", "[get list watch]"],
    );
    assert.deepEqual(
      list.find((r) => r[0] === "selfsubjectaccessreviews.authorization.k8s.io"),
      ["selfsubjectaccessreviews.authorization.k8s.io", "[]", "[]", "[create]"],
    );
    // Non-resource rows have an empty Resources cell.
    assert.ok(
      list.some((r) => r.join(" ") === "[/api/*] [] [get]"),
      JSON.stringify(list),
    );
    const who = rows(await k.ok(["auth", "whoami"]));
    assert.deepEqual(who[0], ["ATTRIBUTE", "VALUE"]);
    assert.deepEqual(who[1], ["Username", "viewer"]);
    assert.deepEqual(
      who.find((r) => r[0] === "Groups"),
      ["Groups", "[viewers system:authenticated]"],
    );
  });

  test("impersonation: --as needs the impersonate verb; the admin may", async () => {
    // Impersonating a user gives none of its groups: they are asked for with --as-group.
    const bare = await admin.run(["auth", "can-i", "list", "pods", "-n", "team", "--as=viewer"]);
    assert.deepEqual([bare.code, bare.stdout.trim()], [1, "no"]);
    const r = await admin.run(["auth", "can-i", "delete", "pods", "-n", "team", "--as=viewer", "--as-group=viewers"]);
    assert.deepEqual([r.code, r.stdout.trim()], [1, "no"]);
    assert.equal(
      (
        await admin.run(["auth", "can-i", "list", "pods", "-n", "team", "--as=viewer", "--as-group=viewers"])
      ).stdout.trim(),
      "yes",
    );
    const who = rows(await admin.ok(["auth", "whoami", "--as=viewer", "--as-group=extra"]));
    assert.deepEqual(
      who.find((r) => r[0] === "Groups"),
      ["Groups", "[extra system:authenticated]"],
    );
    const denied = await (as.viewer as Kubectl).run(["get", "pods", "-n", "team", "--as=alice"]);
    assert.match(
      denied.stderr,
      /users "alice" is forbidden: User "viewer" cannot impersonate resource "users" in API group "" at the cluster scope/,
    );
  });
});

describe("escalation prevention", () => {
  before(async () => {
    // binder may manage RoleBindings in team, and holds view there; writer may create roles.
    await admin.ok([
      "create",
      "role",
      "binding-manager",
      "-n",
      "team",
      "--verb=get,list,create,update,delete",
      "--resource=rolebindings.rbac.authorization.k8s.io",
    ]);
    await admin.ok([
      "create",
      "rolebinding",
      "binder-manager",
      "-n",
      "team",
      "--role=binding-manager",
      "--group=binders",
    ]);
    await admin.ok(["create", "rolebinding", "binder-view", "-n", "team", "--clusterrole=view", "--group=binders"]);
    await admin.ok([
      "create",
      "role",
      "role-writer",
      "-n",
      "team",
      "--verb=create,get",
      "--resource=roles.rbac.authorization.k8s.io,configmaps",
    ]);
    await admin.ok([
      "create",
      "rolebinding",
      "writer-roles",
      "-n",
      "team",
      "--role=role-writer",
      "--serviceaccount=team:nobody",
      "--group=writers",
    ]);
    await canI("binder", ["create", "rolebindings", "-n", "team"], "yes");
    await canI("writer", ["create", "roles", "-n", "team"], "yes");
  });

  test("a user who may create RoleBindings but does not hold edit cannot bind edit", async () => {
    const r = await (as.binder as Kubectl).run([
      "create",
      "rolebinding",
      "give-edit",
      "-n",
      "team",
      "--clusterrole=edit",
      "--group=devs",
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: failed to create rolebinding: rolebindings\.rbac\.authorization\.k8s\.io "give-edit" is forbidden: user "binder" \(groups=\["binders" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["configmaps"\], Verbs:\["create" "update" "patch" "delete" "deletecollection"\]\}/,
    );
    // What it holds it may grant.
    await (as.binder as Kubectl).ok([
      "create",
      "rolebinding",
      "give-view",
      "-n",
      "team",
      "--clusterrole=view",
      "--group=devs",
    ]);
    await canI("alice", ["list", "pods", "-n", "team"], "yes");
  });

  test("a user who may create RoleBindings and holds edit may bind edit", async () => {
    await admin.ok([
      "create",
      "rolebinding",
      "editor-manager",
      "-n",
      "team",
      "--role=binding-manager",
      "--group=editors",
    ]);
    await admin.ok(["create", "rolebinding", "editor-edit", "-n", "team", "--clusterrole=edit", "--group=editors"]);
    await canI("editor", ["create", "configmaps", "-n", "team"], "yes");
    assert.match(
      await (as.editor as Kubectl).ok([
        "create",
        "rolebinding",
        "editor-gives-edit",
        "-n",
        "team",
        "--clusterrole=edit",
        "--user=carol",
      ]),
      /rolebinding.rbac.authorization.k8s.io\/editor-gives-edit created/,
    );
    // Held in team only: where editor may create bindings but holds no edit, binding edit is an escalation.
    await admin.ok(["create", "namespace", "elsewhere"]);
    await admin.ok([
      "create",
      "role",
      "binding-manager",
      "-n",
      "elsewhere",
      "--verb=get,list,create",
      "--resource=rolebindings.rbac.authorization.k8s.io",
    ]);
    await admin.ok([
      "create",
      "rolebinding",
      "editor-manager",
      "-n",
      "elsewhere",
      "--role=binding-manager",
      "--group=editors",
    ]);
    await canI("editor", ["create", "rolebindings", "-n", "elsewhere"], "yes");
    const r = await (as.editor as Kubectl).run([
      "create",
      "rolebinding",
      "editor-gives-edit",
      "-n",
      "elsewhere",
      "--clusterrole=edit",
      "--user=carol",
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /rolebindings\.rbac\.authorization\.k8s\.io "editor-gives-edit" is forbidden: user "editor" \(groups=\["editors" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:/,
    );
  });

  test("the bind verb on the role lets it bind edit after all", async () => {
    await admin.ok([
      "create",
      "clusterrole",
      "bind-edit",
      "--verb=bind",
      "--resource=clusterroles.rbac.authorization.k8s.io",
      "--resource-name=edit",
    ]);
    await admin.ok([
      "create",
      "rolebinding",
      "binder-bind-edit",
      "-n",
      "team",
      "--clusterrole=bind-edit",
      "--group=binders",
    ]);
    await canI("binder", ["bind", "clusterroles/edit", "-n", "team"], "yes");
    await (as.binder as Kubectl).ok([
      "create",
      "rolebinding",
      "give-edit",
      "-n",
      "team",
      "--clusterrole=edit",
      "--group=devs",
    ]);
    await canI("alice", ["create", "configmaps", "-n", "team"], "yes");
  });

  test("a Role granting more than its writer holds is refused; one within is created", async () => {
    const r = await (as.writer as Kubectl).run([
      "create",
      "role",
      "too-much",
      "-n",
      "team",
      "--verb=delete",
      "--resource=secrets",
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /roles\.rbac\.authorization\.k8s\.io "too-much" is forbidden: user "writer" \(groups=\["writers" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["secrets"\], Verbs:\["delete"\]\}/,
    );
    assert.match(
      await (as.writer as Kubectl).ok([
        "create",
        "role",
        "cm-reader",
        "-n",
        "team",
        "--verb=get",
        "--resource=configmaps",
      ]),
      /role.rbac.authorization.k8s.io\/cm-reader created/,
    );
  });

  test("only cluster admins may set an aggregationRule", async () => {
    await admin.ok([
      "create",
      "clusterrole",
      "cr-writer",
      "--verb=create",
      "--resource=clusterroles.rbac.authorization.k8s.io",
    ]);
    await admin.ok(["create", "clusterrolebinding", "writer-cr", "--clusterrole=cr-writer", "--group=writers"]);
    await canI("writer", ["create", "clusterroles"], "yes");
    const r = await (as.writer as Kubectl).run([
      "create",
      "clusterrole",
      "sneaky",
      "--aggregation-rule=rbac.authorization.k8s.io/aggregate-to-admin=true",
    ]);
    assert.match(
      r.stderr,
      /clusterroles\.rbac\.authorization\.k8s\.io "sneaky" is forbidden: must have cluster-admin privileges to use the aggregationRule/,
    );
  });
});

describe("kubectl create for the RBAC kinds and aggregation", () => {
  test("create clusterrole with an aggregation label feeds view; describe and get show it", async () => {
    await admin.ok([
      "create",
      "clusterrole",
      "widgets-view",
      "--verb=get,list",
      "--resource=leases.coordination.k8s.io",
    ]);
    await admin.ok(["label", "clusterrole", "widgets-view", "rbac.authorization.k8s.io/aggregate-to-view=true"]);
    await canI("viewer", ["list", "leases.coordination.k8s.io", "-n", "team"], "yes");
    await admin.ok([
      "create",
      "clusterrolebinding",
      "all-sa",
      "--clusterrole=view",
      "--serviceaccount=team:robot",
      "--group=g1",
      // kubectl's --user makes the dispatcher fall back to kubectl 1.32, which POSTs protobuf.
      "--user=u1",
      "--user=u2",
    ]);
    const line = rows(await admin.ok(["get", "clusterrolebinding", "all-sa", "-o", "wide"]))[1];
    assert.deepEqual(line?.slice(1), ["ClusterRole/view", line?.[2], "u1, u2", "g1", "team/robot"]);
    const rb = rows(await admin.ok(["get", "rolebinding", "-n", "team"]));
    assert.deepEqual(rb[0], ["NAME", "ROLE", "AGE"]);
    assert.ok(rb.some((r) => r[0] === "binder-view" && r[1] === "ClusterRole/view"));
  });

  test("validation: upstream's messages", async () => {
    const bad = await admin.run(["create", "-f", "-"], {
      input: JSON.stringify({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "bad", namespace: "team" },
        rules: [
          { verbs: [], apiGroups: [""], resources: ["pods"] },
          { verbs: ["get"], nonResourceURLs: ["/x"] },
        ],
      }),
    });
    assert.match(bad.stderr, /rules\[0\]\.verbs: Required value: verbs must contain at least one value/);
    assert.match(
      bad.stderr,
      /rules\[1\]\.nonResourceURLs: Invalid value: .*namespaced rules cannot apply to non-resource URLs/,
    );
    const ref = await admin.run([
      "patch",
      "rolebinding",
      "binder-view",
      "-n",
      "team",
      "--type=merge",
      "-p",
      '{"roleRef":{"name":"edit"}}',
    ]);
    assert.match(ref.stderr, /roleRef: Invalid value: .*cannot change roleRef/);
  });
});

describe("the real kubectl with a client-certificate kubeconfig", () => {
  const lead = () => as.lead as Kubectl;

  before(async () => {
    // lead manages RBAC objects and holds view everywhere; nothing else.
    await admin.ok([
      "create",
      "clusterrole",
      "rbac-manager",
      "--verb=create,get,list",
      "--resource=roles.rbac.authorization.k8s.io,rolebindings.rbac.authorization.k8s.io,clusterrolebindings.rbac.authorization.k8s.io",
    ]);
    await admin.ok(["create", "clusterrolebinding", "lead-rbac", "--clusterrole=rbac-manager", "--group=leads"]);
    await admin.ok(["create", "clusterrolebinding", "lead-view", "--clusterrole=view", "--group=leads"]);
    await canI("lead", ["create", "clusterrolebindings"], "yes");
    await canI("lead", ["list", "pods", "-A"], "yes");
  });

  test("the kubeconfig holds a client certificate and no token; auth whoami shows its CN and O", async () => {
    const config = parseKubeconfig(readFileSync(kubeconfigs.lead as string, "utf8"), { source: "lead" });
    assert.ok(config.certPem && config.keyPem, "a client certificate");
    assert.equal(config.token, undefined);
    const who = rows(await lead().ok(["auth", "whoami"]));
    assert.deepEqual(who[1], ["Username", "lead"]);
    assert.deepEqual(
      who.find((r) => r[0] === "Groups"),
      ["Groups", "[leads system:authenticated]"],
    );
    const json = JSON.parse(await lead().ok(["auth", "whoami", "-o", "json"])) as {
      kind: string;
      status: { userInfo: { username: string; groups: string[] } };
    };
    assert.equal(json.kind, "SelfSubjectReview");
    assert.deepEqual(json.status.userInfo.groups, ["leads", "system:authenticated"]);
  });

  test("auth can-i: yes (exit 0) for what RBAC grants, no (exit 1) for the rest", async () => {
    for (const [args, want, code] of [
      [["create", "rolebindings", "-n", "team"], "yes", 0],
      [["list", "pods", "--all-namespaces"], "yes", 0],
      [["get", "clusterroles"], "no", 1],
      [["delete", "pods", "-n", "team"], "no", 1],
      [["get", "secrets", "-n", "team"], "no", 1],
      [["get", "/version"], "yes", 0],
    ] as const) {
      const r = await lead().run(["auth", "can-i", ...args]);
      assert.deepEqual([r.stdout.trim(), r.code], [want, code], args.join(" "));
    }
    const quiet = await lead().run(["auth", "can-i", "delete", "pods", "-n", "team", "--quiet"]);
    assert.deepEqual([quiet.stdout, quiet.code], ["", 1]);
  });

  test("create role: within what the user holds (view's pods), refused beyond it", async () => {
    assert.match(
      await lead().ok(["create", "role", "pod-reader", "-n", "team", "--verb=get,list", "--resource=pods"]),
      /^role.rbac.authorization.k8s.io\/pod-reader created$/m,
    );
    const more = await lead().run(["create", "role", "pod-killer", "-n", "team", "--verb=delete", "--resource=pods"]);
    assert.equal(more.code, 1);
    assert.match(
      more.stderr,
      /roles\.rbac\.authorization\.k8s\.io "pod-killer" is forbidden: user "lead" \(groups=\["leads" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["pods"\], Verbs:\["delete"\]\}/,
    );
  });

  test("create rolebinding: of a role the user holds", async () => {
    await waitFor(async () => (await lead().run(["get", "role", "pod-reader", "-n", "team"])).code === 0, {
      timeoutMs: 10_000,
      message: "role pod-reader visible to lead",
    });
    assert.match(
      await lead().ok(["create", "rolebinding", "bob-reads-pods", "-n", "team", "--role=pod-reader", "--user=bob"]),
      /^rolebinding.rbac.authorization.k8s.io\/bob-reads-pods created$/m,
    );
    const bob = kubectlFor(await srv.kubeconfigFor({ name: "bob" }));
    try {
      await waitFor(
        async () => (await bob.run(["auth", "can-i", "list", "pods", "-n", "team"])).stdout.trim() === "yes",
        {
          timeoutMs: 10_000,
          message: "bob may list pods in team",
        },
      );
      assert.equal((await bob.run(["auth", "can-i", "list", "pods", "-n", "default"])).stdout.trim(), "no");
    } finally {
      bob.close();
    }
  });

  test("create clusterrolebinding: view (held cluster-wide) yes, edit (not held) with upstream's message", async () => {
    assert.match(
      await lead().ok(["create", "clusterrolebinding", "auditors-view", "--clusterrole=view", "--group=auditors"]),
      /^clusterrolebinding.rbac.authorization.k8s.io\/auditors-view created$/m,
    );
    const edit = await lead().run([
      "create",
      "clusterrolebinding",
      "auditors-edit",
      "--clusterrole=edit",
      "--group=auditors",
    ]);
    assert.equal(edit.code, 1);
    assert.match(
      edit.stderr,
      /^error: failed to create clusterrolebinding: clusterrolebindings\.rbac\.authorization\.k8s\.io "auditors-edit" is forbidden: user "lead" \(groups=\["leads" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n/,
    );
  });
});
