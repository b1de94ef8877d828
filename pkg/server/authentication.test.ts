import assert from "node:assert/strict";
import { test } from "node:test";
import type { TokenReview } from "../api/types/authentication.js";
import { FakeClock } from "../runtime/clock.js";
import {
  bearerToken,
  DelegatingAuthenticator,
  type RequestAuthenticator,
  TokenReviewAuthenticator,
  type TokenReviewClient,
} from "./authentication.js";

/** A fake API server answering TokenReviews from a table; counts the reviews it is asked. */
function fakeReviews(users: Record<string, { username: string; groups: string[] }>, o: { down?: boolean } = {}) {
  const asked: TokenReview[] = [];
  const client: TokenReviewClient = {
    async create(_r, _ns, review) {
      asked.push(review);
      if (o.down) throw new Error("cannot reach the API server");
      const token = review.spec?.token ?? "";
      const user = users[token];
      return {
        ...review,
        status: user
          ? { authenticated: true, user: { ...user, uid: "u-1" } }
          : { authenticated: false, error: "invalid bearer token" },
      };
    },
  };
  return { client, asked };
}

const req = (authorization?: string) => ({ headers: authorization ? { authorization } : {}, socket: null });

test("bearerToken: upstream's parse", () => {
  assert.equal(bearerToken("Bearer abc"), "abc");
  assert.equal(bearerToken("bearer abc"), "abc");
  assert.equal(bearerToken("  Bearer abc  "), "abc");
  assert.equal(bearerToken("Basic abc"), undefined);
  assert.equal(bearerToken("Bearer"), undefined);
  assert.equal(bearerToken(undefined), undefined);
});

test("TokenReviewAuthenticator: the reviewed user, errors as errors, both cached for the TTL", async () => {
  const clock = new FakeClock();
  const { client, asked } = fakeReviews({ good: { username: "alice", groups: ["dev", "system:authenticated"] } });
  const a = new TokenReviewAuthenticator(client, { ttlMs: 10_000, clock });
  assert.equal(await a.authenticateRequest(req()), undefined, "no token: not ours");
  assert.deepEqual(await a.authenticateRequest(req("Bearer good")), {
    user: { name: "alice", uid: "u-1", groups: ["dev", "system:authenticated"] },
  });
  assert.deepEqual(asked[0], {
    apiVersion: "authentication.k8s.io/v1",
    kind: "TokenReview",
    metadata: {},
    spec: { token: "good" },
  });
  assert.deepEqual(await a.authenticateRequest(req("Bearer bad")), { error: "invalid bearer token" });
  assert.equal(asked.length, 2);
  // Within the TTL neither token is reviewed again.
  await a.authenticateRequest(req("Bearer good"));
  await a.authenticateRequest(req("Bearer bad"));
  assert.equal(asked.length, 2);
  clock.step(10_000);
  await a.authenticateRequest(req("Bearer good"));
  assert.equal(asked.length, 3);
  // A burst of one new token costs one review.
  await Promise.all([1, 2, 3].map(() => a.authenticateRequest(req("Bearer new"))));
  assert.equal(asked.length, 4);
});

test("TokenReviewAuthenticator: an unreachable API server is an error, and is asked again next time", async () => {
  const { client, asked } = fakeReviews({}, { down: true });
  const a = new TokenReviewAuthenticator(client, { ttlMs: 10_000, clock: new FakeClock() });
  const r = await a.authenticateRequest(req("Bearer x"));
  assert.ok(r && "error" in r && /cannot reach/.test(r.error));
  await a.authenticateRequest(req("Bearer x"));
  assert.equal(asked.length, 2);
});

test("DelegatingAuthenticator: first user wins and joins system:authenticated; errors are 401s, not anonymous", async () => {
  const fixed = (r: Awaited<ReturnType<RequestAuthenticator["authenticateRequest"]>>): RequestAuthenticator => ({
    authenticateRequest: () => r,
  });
  const bob = { user: { name: "bob", uid: "", groups: ["g"] } };
  assert.deepEqual(
    await new DelegatingAuthenticator([fixed(undefined), fixed(bob)], { anonymous: false }).authenticateRequest(req()),
    {
      user: { name: "bob", uid: "", groups: ["g", "system:authenticated"] },
    },
  );
  assert.deepEqual(
    await new DelegatingAuthenticator([fixed({ error: "bad cert" }), fixed(undefined)], {
      anonymous: true,
    }).authenticateRequest(req()),
    { error: "bad cert" },
  );
  assert.equal(
    await new DelegatingAuthenticator([fixed(undefined)], { anonymous: false }).authenticateRequest(req()),
    undefined,
  );
  assert.deepEqual(
    await new DelegatingAuthenticator([undefined, fixed(undefined)], { anonymous: true }).authenticateRequest(req()),
    {
      user: { name: "system:anonymous", uid: "", groups: ["system:unauthenticated"] },
    },
  );
});
