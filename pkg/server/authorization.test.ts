import assert from "node:assert/strict";
import { test } from "node:test";
import type { SubjectAccessReview } from "../api/types/authorization.js";
import { FakeClock } from "../runtime/clock.js";
import type { UserInfo } from "./authentication.js";
import {
  type Attributes,
  alwaysAllowPaths,
  DelegatingAuthorizer,
  nonResourceAttributes,
  nonResourceForbiddenMessage,
  SubjectAccessReviewAuthorizer,
  type SubjectAccessReviewClient,
  subjectAccessReviewSpec,
} from "./authorization.js";

const alice: UserInfo = { name: "alice", uid: "", groups: ["dev", "system:authenticated"] };

function nodeProxy(user = alice, subresource = "proxy"): Attributes {
  return {
    user,
    verb: "get",
    resourceRequest: true,
    path: "/exec/ns/p/c",
    namespace: "",
    apiGroup: "",
    apiVersion: "v1",
    resource: "nodes",
    subresource,
    name: "node-1",
  };
}

/** A fake API server: allows what allow() says, counts the reviews. */
function fakeSAR(allow: (r: SubjectAccessReview) => boolean | "error") {
  const asked: SubjectAccessReview[] = [];
  const client: SubjectAccessReviewClient = {
    async create(_r, _ns, review) {
      asked.push(review);
      const a = allow(review);
      if (a === "error") throw new Error("connection refused");
      return { ...review, status: a ? { allowed: true } : { allowed: false, reason: "no RBAC policy matched" } };
    },
  };
  return { client, asked };
}

test("subjectAccessReviewSpec: upstream's SubjectAccessReview, empty fields left out", () => {
  assert.deepEqual(subjectAccessReviewSpec(nodeProxy({ ...alice, uid: "u1", extra: { scopes: ["a"] } })), {
    user: "alice",
    groups: ["dev", "system:authenticated"],
    uid: "u1",
    extra: { scopes: ["a"] },
    resourceAttributes: { verb: "get", version: "v1", resource: "nodes", subresource: "proxy", name: "node-1" },
  });
  assert.deepEqual(subjectAccessReviewSpec(nonResourceAttributes(alice, "GET", "/metrics")), {
    user: "alice",
    groups: ["dev", "system:authenticated"],
    nonResourceAttributes: { path: "/metrics", verb: "get" },
  });
});

test("SubjectAccessReviewAuthorizer: allows cached for the authorized TTL, denials for the unauthorized TTL", async () => {
  const clock = new FakeClock();
  const { client, asked } = fakeSAR((r) => r.spec.resourceAttributes?.subresource === "proxy");
  const authz = new SubjectAccessReviewAuthorizer(client, {
    authorizedTtlMs: 300_000,
    unauthorizedTtlMs: 30_000,
    clock,
  });
  assert.equal((await authz.authorize(nodeProxy())).decision, "Allow");
  assert.deepEqual(await authz.authorize(nodeProxy(alice, "stats")), {
    decision: "NoOpinion",
    reason: "no RBAC policy matched",
  });
  assert.equal(asked.length, 2);
  assert.equal(asked[0]?.kind, "SubjectAccessReview");
  assert.equal(asked[0]?.apiVersion, "authorization.k8s.io/v1");
  await authz.authorize(nodeProxy());
  await authz.authorize(nodeProxy(alice, "stats"));
  assert.equal(asked.length, 2, "both answers cached");
  clock.step(30_000);
  await authz.authorize(nodeProxy());
  assert.equal(asked.length, 2, "the allow still cached");
  await authz.authorize(nodeProxy(alice, "stats"));
  assert.equal(asked.length, 3, "the denial expired");
  clock.step(270_000);
  await authz.authorize(nodeProxy());
  assert.equal(asked.length, 4, "the allow expired");
  // Another user is another question.
  await authz.authorize(nodeProxy({ ...alice, name: "bob" }));
  assert.equal(asked.length, 5);
});

test("SubjectAccessReviewAuthorizer: a review that fails is an error, not cached", async () => {
  const { client, asked } = fakeSAR(() => "error");
  const authz = new SubjectAccessReviewAuthorizer(client, { authorizedTtlMs: 1000, unauthorizedTtlMs: 1000 });
  const r = await authz.authorize(nodeProxy());
  assert.equal(r.decision, "NoOpinion");
  assert.match(r.error ?? "", /connection refused/);
  await authz.authorize(nodeProxy());
  assert.equal(asked.length, 2);
});

test("alwaysAllowPaths: exact paths and '*' prefixes", () => {
  const allow = alwaysAllowPaths(["/healthz", "/readyz", "/debug/*"]);
  assert.ok(allow("/healthz"));
  assert.ok(!allow("/healthz/ping"));
  assert.ok(allow("/debug/pprof"));
  assert.ok(!allow("/metrics"));
  assert.throws(() => alwaysAllowPaths(["healthz"]), /must start with/);
});

test("DelegatingAuthorizer: allowed paths and system:masters skip the review; the rest asks", async () => {
  const { client, asked } = fakeSAR(() => false);
  const authz = new DelegatingAuthorizer(
    new SubjectAccessReviewAuthorizer(client, { authorizedTtlMs: 0, unauthorizedTtlMs: 0 }),
    { alwaysAllowPaths: ["/healthz", "/readyz", "/livez"], alwaysAllowGroups: ["system:masters"] },
  );
  const anon = { name: "system:anonymous", uid: "", groups: ["system:unauthenticated"] };
  assert.equal((await authz.authorize(nonResourceAttributes(anon, "GET", "/healthz"))).decision, "Allow");
  assert.equal(
    (await authz.authorize(nonResourceAttributes({ ...alice, groups: ["system:masters"] }, "GET", "/metrics")))
      .decision,
    "Allow",
  );
  assert.equal(asked.length, 0);
  const metrics = nonResourceAttributes(anon, "GET", "/metrics");
  assert.equal((await authz.authorize(metrics)).decision, "NoOpinion");
  assert.equal(asked.length, 1);
  assert.equal(nonResourceForbiddenMessage(metrics), 'User "system:anonymous" cannot get path "/metrics"');
});
