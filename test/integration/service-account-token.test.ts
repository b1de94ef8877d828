// ServiceAccount tokens and TokenReview end to end against a real API server on real etcd
// (--authorization-mode=RBAC): TokenReview of the token file's tokens and of bad ones, and the
// components' and system:auth-delegator's right to ask it, with the real kubectl.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { closeRawAgents, raw } from "../harness/raw-http.js";
import { waitFor } from "../harness/wait.js";

let srv: TestApiServer;
let admin: Kubectl;
const kubectls: Kubectl[] = [];

before(async () => {
  srv = await startApiServer({ extraArgs: ["--authorization-mode=Node,RBAC"] });
  admin = kubectlFor(srv.kubeconfigPath);
  kubectls.push(admin);
});

after(async () => {
  for (const k of kubectls) k.close();
  await closeRawAgents();
  await srv?.stop();
});

const tokenReview = (spec: Record<string, unknown>) =>
  JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec });

async function review(spec: Record<string, unknown>) {
  return raw(srv, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", {
    body: tokenReview(spec),
    headers: { "content-type": "application/json" },
  });
}

describe("TokenReview", () => {
  test("a token of the token file authenticates as its user; nothing is stored", async () => {
    const r = await review({ token: srv.token });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.kind, "TokenReview");
    assert.equal(r.json.status.authenticated, true);
    assert.deepEqual(r.json.status.user, {
      username: "admin",
      uid: "admin",
      groups: ["system:masters", "system:authenticated"],
    });
    assert.equal(r.json.status.error, undefined);
    const get = await raw(srv, "GET", "/apis/authentication.k8s.io/v1/tokenreviews");
    assert.equal(get.status, 405, get.text);
  });

  test("an unknown token is an answer, not a failed request: authenticated false with the error", async () => {
    const r = await review({ token: "no-such-token" });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.status.authenticated, false);
    assert.equal(r.json.status.error, "invalid bearer token");
    assert.equal(r.json.status.user, undefined);
  });

  test("an audience the token file's tokens are not valid for does not authenticate", async () => {
    const r = await review({ token: srv.token, audiences: ["some-other-service"] });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.status.authenticated, false);
  });

  test("no token is a 400 Status with upstream's message", async () => {
    const r = await review({});
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.kind, "Status");
    assert.equal(r.json.message, "token is required for TokenReview in authentication");
  });

  test("discovery lists tokenreviews, create only", async () => {
    const r = await raw(srv, "GET", "/apis/authentication.k8s.io/v1");
    assert.equal(r.status, 200, r.text);
    const res = (r.json.resources as Array<{ name: string; verbs: string[]; namespaced: boolean; kind: string }>).find(
      (x) => x.name === "tokenreviews",
    );
    assert.deepEqual(res && { verbs: res.verbs, namespaced: res.namespaced, kind: res.kind }, {
      verbs: ["create"],
      namespaced: false,
      kind: "TokenReview",
    });
  });

  test("kubelets, the scheduler, the controller-manager and system:auth-delegator may ask; others may not", async () => {
    // --validate=false: kubectl finds no OpenAPI v2 to validate a create-only kind against.
    const body = `${tokenReview({ token: srv.token })}\n`;
    const asUser = async (name: string, groups: string[] = []) => {
      const k = kubectlFor(await srv.kubeconfigFor({ name, groups }));
      kubectls.push(k);
      return k;
    };
    for (const k of [
      await asUser("system:node:n1", ["system:nodes"]),
      await asUser("system:kube-scheduler"),
      await asUser("system:kube-controller-manager"),
    ]) {
      const out = JSON.parse(await k.ok(["create", "--validate=false", "-f", "-", "-o", "json"], { input: body }));
      assert.equal(out.status.authenticated, true);
      assert.equal(out.status.user.username, "admin");
      assert.equal(
        (await k.ok(["auth", "can-i", "create", "subjectaccessreviews.authorization.k8s.io"])).trim(),
        "yes",
      );
    }
    const nobody = await asUser("nobody");
    const denied = await nobody.run(["create", "--validate=false", "-f", "-", "-o", "json"], { input: body });
    assert.notEqual(denied.code, 0);
    assert.match(
      denied.stderr,
      /User "nobody" cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope/,
    );
    await admin.ok([
      "create",
      "clusterrolebinding",
      "nobody-delegator",
      "--clusterrole=system:auth-delegator",
      "--user=nobody",
    ]);
    try {
      await waitFor(
        async () => (await nobody.run(["auth", "can-i", "create", "tokenreviews"])).stdout.trim() === "yes",
        {
          timeoutMs: 10_000,
          message: "nobody may create tokenreviews once bound to system:auth-delegator",
        },
      );
      const out = JSON.parse(await nobody.ok(["create", "--validate=false", "-f", "-", "-o", "json"], { input: body }));
      assert.equal(out.status.authenticated, true);
    } finally {
      await admin.ok(["delete", "clusterrolebinding", "nobody-delegator"]);
    }
  });
});
