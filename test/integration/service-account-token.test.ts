// ServiceAccount tokens and TokenReview end to end against a real API server on real etcd
// (--authorization-mode=Node,RBAC, the harness's kubeadm-like sa.key and issuer), with the real
// kubectl: TokenReview of the token file's tokens, of bound ServiceAccount tokens and of bad
// ones, and who may ask it; `kubectl create token` (audiences, durations, a pod binding) and the
// tokens authenticating as their ServiceAccount with exactly its RBAC permissions, until their
// pod or ServiceAccount is gone; forged, expired and foreign tokens refused; the issuer's
// OIDC discovery documents, enough for a relying party to verify tokens itself.

import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import type { ServiceAccount } from "#pkg/api/types/index.js";
import { writeKubeconfig } from "#pkg/client/kubeconfig.js";
import { type TokenClaims, tokenClaims } from "../../apiserver/auth/serviceaccount/claims.js";
import { JWTTokenGenerator } from "../../apiserver/auth/serviceaccount/jwt.js";
import { parsePublicKeys, parseSigningKey } from "../../apiserver/auth/serviceaccount/keys.js";
import { SERVICE_ACCOUNT_ISSUER, startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { closeRawAgents, raw } from "../harness/raw-http.js";
import { waitFor } from "../harness/wait.js";

let srv: TestApiServer;
let admin: Kubectl;
const kubectls: Kubectl[] = [];
const NS = "sa-tokens";
let dir: string;

before(async () => {
  srv = await startApiServer({ extraArgs: ["--authorization-mode=Node,RBAC"] });
  admin = kubectlFor(srv.kubeconfigPath);
  kubectls.push(admin);
  dir = mkdtempSync(join(tmpdir(), "sa-token-test-"));
  await admin.ok(["create", "namespace", NS]);
  await admin.ok(["create", "serviceaccount", "robot", "-n", NS]);
});

after(async () => {
  for (const k of kubectls) k.close();
  await closeRawAgents();
  await srv?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

let kubeconfigs = 0;
/** kubectl with a kubeconfig holding only the token (no client certificate to win over it). */
function kubectlWithToken(token: string): Kubectl {
  const path = join(dir, `token-${kubeconfigs++}.kubeconfig`);
  writeKubeconfig(path, { server: srv.url, caPem: srv.caPem, token, namespace: NS });
  const k = kubectlFor(path);
  kubectls.push(k);
  return k;
}

const createToken = async (sa: string, ...args: string[]) =>
  (await admin.ok(["create", "token", sa, "-n", NS, ...args])).trim();

const claimsOf = (token: string): TokenClaims =>
  JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString("utf8"));

/** GET /api with the token: 200 when it authenticates, 401 when not. */
const apiStatus = async (token: string) => (await raw(srv, "GET", "/api", { token })).status;

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

describe("TokenReview of ServiceAccount tokens", () => {
  test("a bound token authenticates as its ServiceAccount for the API audience", async () => {
    const token = await createToken("robot");
    const r = await review({ token });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.status.authenticated, true, r.text);
    assert.equal(r.json.status.user.username, `system:serviceaccount:${NS}:robot`);
    assert.deepEqual(r.json.status.user.groups, [
      "system:serviceaccounts",
      `system:serviceaccounts:${NS}`,
      "system:authenticated",
    ]);
    assert.deepEqual(r.json.status.user.extra["authentication.kubernetes.io/credential-id"], [
      `JTI=${claimsOf(token).jti}`,
    ]);
    assert.deepEqual(r.json.status.audiences, [SERVICE_ACCOUNT_ISSUER]);
  });
});

describe("kubectl create token", () => {
  test("a JWT of the issuer for an hour; it is the ServiceAccount, with the ServiceAccount's permissions", async () => {
    const token = await createToken("robot");
    const sa = JSON.parse(await admin.ok(["get", "sa", "robot", "-n", NS, "-o", "json"])) as ServiceAccount;
    const c = claimsOf(token);
    assert.equal(c.iss, SERVICE_ACCOUNT_ISSUER);
    assert.deepEqual(c.aud, [SERVICE_ACCOUNT_ISSUER]);
    assert.equal(c.sub, `system:serviceaccount:${NS}:robot`);
    assert.equal((c.exp ?? 0) - (c.iat ?? 0), 3600);
    assert.equal(c.nbf, c.iat);
    assert.deepEqual(c["kubernetes.io"], {
      namespace: NS,
      serviceaccount: { name: "robot", uid: sa.metadata.uid },
    });

    const robot = kubectlWithToken(token);
    const who = JSON.parse(await robot.ok(["auth", "whoami", "-o", "json"]));
    assert.equal(who.status.userInfo.username, `system:serviceaccount:${NS}:robot`);
    assert.equal(who.status.userInfo.uid, sa.metadata.uid);
    assert.ok(who.status.userInfo.groups.includes(`system:serviceaccounts:${NS}`));

    const denied = await robot.run(["get", "pods"]);
    assert.notEqual(denied.code, 0);
    assert.match(
      denied.stderr,
      new RegExp(
        `pods is forbidden: User "system:serviceaccount:${NS}:robot" cannot list resource "pods" in API group "" in the namespace "${NS}"`,
      ),
    );
    await admin.ok(["create", "role", "pod-reader", "-n", NS, "--verb=get,list", "--resource=pods"]);
    await admin.ok([
      "create",
      "rolebinding",
      "robot-reads",
      "-n",
      NS,
      "--role=pod-reader",
      `--serviceaccount=${NS}:robot`,
    ]);
    try {
      await waitFor(async () => (await robot.run(["auth", "can-i", "list", "pods"])).stdout.trim() === "yes", {
        timeoutMs: 10_000,
        message: "the ServiceAccount may list pods once bound",
      });
      await robot.ok(["get", "pods"]);
      const secrets = await robot.run(["get", "secrets"]);
      assert.match(
        secrets.stderr,
        new RegExp(
          `User "system:serviceaccount:${NS}:robot" cannot list resource "secrets" in API group "" in the namespace "${NS}"`,
        ),
      );
      const elsewhere = await robot.run(["get", "pods", "-n", "default"]);
      assert.match(elsewhere.stderr, /cannot list resource "pods" in API group "" in the namespace "default"/);
    } finally {
      await admin.ok(["delete", "rolebinding", "robot-reads", "-n", NS]);
      await admin.ok(["delete", "role", "pod-reader", "-n", NS]);
    }
  });

  test("--audience and --duration; upstream's refusals", async () => {
    const token = await createToken("robot", "--audience=vault", "--audience=other", "--duration=20m");
    const c = claimsOf(token);
    assert.deepEqual(c.aud, ["vault", "other"]);
    assert.equal((c.exp ?? 0) - (c.iat ?? 0), 1200);
    // Not for the API: 401 there; for vault, it is the ServiceAccount.
    assert.equal(await apiStatus(token), 401);
    const asAPI = await review({ token });
    assert.equal(asAPI.json.status.authenticated, false);
    assert.equal(
      asAPI.json.status.error,
      `token audiences ["vault" "other"] is invalid for the target audiences ["${SERVICE_ACCOUNT_ISSUER}"]`,
    );
    const asVault = await review({ token, audiences: ["vault"] });
    assert.equal(asVault.json.status.authenticated, true, asVault.text);
    assert.deepEqual(asVault.json.status.audiences, ["vault"]);

    const short = await admin.run(["create", "token", "robot", "-n", NS, "--duration=1m"]);
    assert.notEqual(short.code, 0);
    assert.match(
      short.stderr,
      /TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes/,
    );
    const missing = await admin.run(["create", "token", "nobody", "-n", NS]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /serviceaccounts "nobody" not found/);
  });

  test("bound to a pod: the pod's user extra; deleting the pod invalidates the token", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: NS },
      spec: { serviceAccountName: "robot", containers: [{ name: "c", image: "busybox" }] },
    };
    await admin.ok(["create", "-f", "-"], { input: JSON.stringify(pod) });
    const uid = (await admin.ok(["get", "pod", "p", "-n", NS, "-o", "jsonpath={.metadata.uid}"])).trim();
    const token = await createToken("robot", "--bound-object-kind=Pod", "--bound-object-name=p");
    assert.deepEqual(claimsOf(token)["kubernetes.io"]?.pod, { name: "p", uid });
    const who = JSON.parse(await kubectlWithToken(token).ok(["auth", "whoami", "-o", "json"]));
    assert.deepEqual(who.status.userInfo.extra["authentication.kubernetes.io/pod-name"], ["p"]);
    assert.deepEqual(who.status.userInfo.extra["authentication.kubernetes.io/pod-uid"], [uid]);
    const wrongUID = await admin.run([
      "create",
      "token",
      "robot",
      "-n",
      NS,
      "--bound-object-kind=Pod",
      "--bound-object-name=p",
      "--bound-object-uid=0000",
    ]);
    assert.match(wrongUID.stderr, /the UID in the bound object reference \(0000\) does not match the UID in record/);
    await admin.ok(["create", "serviceaccount", "other", "-n", NS]);
    const other = await admin.run([
      "create",
      "token",
      "other",
      "-n",
      NS,
      "--bound-object-kind=Pod",
      "--bound-object-name=p",
    ]);
    assert.match(
      other.stderr,
      /cannot bind token for serviceaccount "other" to pod running with different serviceaccount name/,
    );

    await admin.ok(["delete", "pod", "p", "-n", NS, "--grace-period=0", "--force"]);
    await waitFor(async () => (await apiStatus(token)) === 401, {
      timeoutMs: 10_000,
      message: "the pod-bound token is refused once the pod is gone",
    });
    const r = await review({ token });
    assert.equal(r.json.status.authenticated, false);
    assert.equal(r.json.status.error, "service account token has been invalidated");
    const body = await raw(srv, "GET", "/api", { token });
    assert.equal(body.json.kind, "Status");
    assert.equal(body.json.reason, "Unauthorized");
  });

  test("a kubelet gets tokens only for its own pods' ServiceAccounts, bound to the pod (Node authorizer, NodeRestriction)", async () => {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "on-n1", namespace: NS },
      spec: { serviceAccountName: "robot", nodeName: "n1", containers: [{ name: "c", image: "busybox" }] },
    };
    await admin.ok(["create", "-f", "-"], { input: JSON.stringify(pod) });
    try {
      const uid = (await admin.ok(["get", "pod", "on-n1", "-n", NS, "-o", "jsonpath={.metadata.uid}"])).trim();
      const asNode = async (node: string) => {
        const k = kubectlFor(await srv.kubeconfigFor({ name: `system:node:${node}`, groups: ["system:nodes"] }));
        kubectls.push(k);
        return k;
      };
      const n1 = await asNode("n1");
      const bound = ["--bound-object-kind=Pod", "--bound-object-name=on-n1", `--bound-object-uid=${uid}`];
      const token = (await n1.ok(["create", "token", "robot", "-n", NS, ...bound])).trim();
      // The pod's node goes into the claims (its Node object does not exist here: the name only).
      assert.deepEqual(claimsOf(token)["kubernetes.io"]?.node, { name: "n1", uid: "" });
      const who = JSON.parse(await kubectlWithToken(token).ok(["auth", "whoami", "-o", "json"]));
      assert.deepEqual(who.status.userInfo.extra["authentication.kubernetes.io/node-name"], ["n1"]);
      const unbound = await n1.run(["create", "token", "robot", "-n", NS]);
      assert.match(unbound.stderr, /node requested token not bound to a pod/);
      const n2 = await (await asNode("n2")).run(["create", "token", "robot", "-n", NS, ...bound]);
      assert.notEqual(n2.code, 0);
      assert.match(
        n2.stderr,
        new RegExp(
          `User "system:node:n2" cannot create resource "serviceaccounts/token" in API group "" in the namespace "${NS}"`,
        ),
      );
    } finally {
      await admin.ok(["delete", "pod", "on-n1", "-n", NS, "--grace-period=0", "--force"]);
    }
  });

  test("deleting and recreating the ServiceAccount invalidates its old tokens", async () => {
    await admin.ok(["create", "serviceaccount", "phoenix", "-n", NS]);
    const old = await createToken("phoenix");
    assert.equal(await apiStatus(old), 200);
    await admin.ok(["delete", "serviceaccount", "phoenix", "-n", NS]);
    await admin.ok(["create", "serviceaccount", "phoenix", "-n", NS]);
    await waitFor(async () => (await apiStatus(old)) === 401, {
      timeoutMs: 10_000,
      message: "the old token is refused once the ServiceAccount is another one",
    });
    assert.match(
      (await review({ token: old })).json.status.error,
      /service account UID \(.+\) does not match claim \(.+\)/,
    );
    assert.equal(await apiStatus(await createToken("phoenix")), 200);
  });

  test("expired tokens, tokens of another key and of another issuer are refused", async () => {
    const sa = JSON.parse(await admin.ok(["get", "sa", "robot", "-n", NS, "-o", "json"])) as ServiceAccount;
    const ours = parseSigningKey(readFileSync(srv.pki.serviceAccountKey, "utf8"));
    const stranger = parseSigningKey(
      generateKeyPairSync("rsa", { modulusLength: 2048 })
        .privateKey.export({ type: "pkcs1", format: "pem" })
        .toString(),
    );
    const sign = (key: typeof ours, o: { issuer?: string; now?: Date } = {}) =>
      new JWTTokenGenerator(o.issuer ?? SERVICE_ACCOUNT_ISSUER, key).generateToken(
        tokenClaims({ sa, expirationSeconds: 600, audiences: [SERVICE_ACCOUNT_ISSUER], now: o.now ?? new Date() }),
      );
    // Signed by the cluster's own key, the token is good: the forgeries below differ in one thing each.
    assert.equal(await apiStatus(await sign(ours)), 200);
    const cases: Array<[string, string, string]> = [
      ["expired", await sign(ours, { now: new Date(Date.now() - 3600_000) }), "service account token has expired"],
      ["another key", await sign(stranger), "invalid signature, no keys found"],
      ["another issuer", await sign(ours, { issuer: "https://elsewhere" }), "invalid bearer token"],
    ];
    for (const [what, token, error] of cases) {
      assert.equal(await apiStatus(token), 401, what);
      const r = await review({ token });
      assert.equal(r.json.status.authenticated, false, what);
      assert.equal(r.json.status.error, error, what);
    }
  });

  test("discovery lists serviceaccounts/token: a TokenRequest, create only", async () => {
    const r = await raw(srv, "GET", "/api/v1");
    const sub = (r.json.resources as Array<Record<string, unknown>>).find((x) => x.name === "serviceaccounts/token");
    assert.deepEqual(sub && { group: sub.group, version: sub.version, kind: sub.kind, verbs: sub.verbs }, {
      group: "authentication.k8s.io",
      version: "v1",
      kind: "TokenRequest",
      verbs: ["create"],
    });
  });
});

describe("service account issuer discovery", () => {
  test("the OIDC configuration and the JWKS; a relying party verifies a token with them", async () => {
    const token = await createToken("robot", "--audience=relying-party");
    const sa = await createToken("robot");
    const config = await raw(srv, "GET", "/.well-known/openid-configuration", { token: sa });
    assert.equal(config.status, 200, config.text);
    assert.equal(config.headers["content-type"], "application/json");
    assert.equal(config.headers["cache-control"], "public, max-age=3600");
    assert.deepEqual(config.json, {
      issuer: SERVICE_ACCOUNT_ISSUER,
      jwks_uri: `${srv.url}/openid/v1/jwks`,
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
    });
    const jwks = await raw(srv, "GET", "/openid/v1/jwks", { token: sa });
    assert.equal(jwks.status, 200, jwks.text);
    assert.equal(jwks.headers["content-type"], "application/jwk-set+json");
    const [pub] = parsePublicKeys(readFileSync(srv.pki.serviceAccountPub, "utf8"));
    assert.deepEqual(
      (jwks.json as JSONWebKeySet).keys.map((k) => [k.kid, k.alg, k.use, k.kty]),
      [[pub?.keyID, "RS256", "sig", "RSA"]],
    );
    const verified = await jwtVerify(token, createLocalJWKSet(jwks.json as JSONWebKeySet), {
      issuer: SERVICE_ACCOUNT_ISSUER,
      audience: "relying-party",
    });
    assert.equal(verified.payload.sub, `system:serviceaccount:${NS}:robot`);
  });

  test("every ServiceAccount may read them; other users and anonymous requests may not", async () => {
    const nobody = kubectlFor(await srv.kubeconfigFor({ name: "nobody" }));
    kubectls.push(nobody);
    const denied = await nobody.run(["get", "--raw", "/openid/v1/jwks"]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /User "nobody" cannot get path "\/openid\/v1\/jwks"/);
    const anonymous = await raw(srv, "GET", "/.well-known/openid-configuration", { token: null });
    assert.equal(anonymous.status, 403, anonymous.text);
    const robot = kubectlWithToken(await createToken("robot"));
    assert.match(await robot.ok(["get", "--raw", "/.well-known/openid-configuration"]), /"issuer"/);
  });
});
