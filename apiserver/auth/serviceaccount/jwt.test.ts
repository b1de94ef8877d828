import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, test } from "node:test";
import { CompactSign, decodeProtectedHeader } from "jose";
import { tokenClaims } from "./claims.js";
import { JWTTokenGenerator, ServiceAccountTokenAuthenticator, unverifiedIssuer } from "./jwt.js";
import { PublicKeys, parseSigningKey, type SigningKey } from "./keys.js";
import { emptyObjects, fakeGetter, pod, put, serviceAccount } from "./testing.js";

const ISSUER = "https://kubernetes.default.svc.cluster.local";
const newKey = (): SigningKey =>
  parseSigningKey(
    generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
  );
const key = newKey();
const other = newKey();
const sa = serviceAccount("ns", "robot", "sa-uid");

function setup(o: { keys?: SigningKey[]; issuers?: string[]; audiences?: string[] } = {}) {
  const objects = emptyObjects();
  put(objects, sa, pod("ns", "p", "pod-uid", { sa: "robot" }));
  const authn = new ServiceAccountTokenAuthenticator({
    issuers: o.issuers ?? [ISSUER],
    keys: new PublicKeys(o.keys ?? [key]),
    implicitAudiences: o.audiences ?? [ISSUER],
    getter: fakeGetter(objects),
  });
  return { objects, authn };
}

const issue = (o: { signer?: SigningKey; issuer?: string; audiences?: string[]; bound?: boolean } = {}) => {
  const objects = emptyObjects();
  put(objects, pod("ns", "p", "pod-uid", { sa: "robot" }));
  return new JWTTokenGenerator(o.issuer ?? ISSUER, o.signer ?? key).generateToken(
    tokenClaims({
      sa,
      expirationSeconds: 3600,
      audiences: o.audiences ?? [ISSUER],
      now: new Date(),
      ...(o.bound ? { bound: { pod: objects.pods.get("ns/p") } } : {}),
    }),
  );
};

describe("service account JWTs", () => {
  test("signed RS256 with the key's ID; the payload carries the issuer", async () => {
    const token = await issue();
    assert.deepEqual(decodeProtectedHeader(token), { alg: "RS256", kid: key.keyID });
    assert.equal(unverifiedIssuer(token), ISSUER);
    const payload = JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString());
    assert.deepEqual(Object.keys(payload), ["aud", "exp", "iat", "iss", "jti", "kubernetes.io", "nbf", "sub"]);
  });

  test("a token of ours authenticates as its service account, for the audiences asked", async () => {
    const { authn } = setup({ audiences: [ISSUER, "api"] });
    const r = await authn.authenticateToken(await issue({ bound: true }), undefined);
    assert.ok(r && "user" in r, JSON.stringify(r));
    assert.equal(r.user.name, "system:serviceaccount:ns:robot");
    assert.deepEqual(r.user.groups, ["system:serviceaccounts", "system:serviceaccounts:ns"]);
    assert.deepEqual(r.user.extra?.["authentication.kubernetes.io/pod-name"], ["p"]);
    assert.deepEqual(r.audiences, [ISSUER]);
    const vault = await issue({ audiences: ["vault"] });
    const asVault = await authn.authenticateToken(vault, ["vault", "other"]);
    assert.ok(asVault && "user" in asVault);
    assert.deepEqual(asVault.audiences, ["vault"]);
    assert.deepEqual(await authn.authenticateToken(vault, undefined), {
      error: `token audiences ["vault"] is invalid for the target audiences ["${ISSUER}" "api"]`,
    });
  });

  test("what is not a JWT of our issuers is not ours; a bad one of ours is an error", async () => {
    const { authn } = setup();
    assert.equal(await authn.authenticateToken("plain-token", undefined), undefined);
    assert.equal(await authn.authenticateToken(await issue({ issuer: "https://elsewhere" }), undefined), undefined);
    assert.deepEqual(await authn.authenticateToken(await issue({ signer: other }), undefined), {
      error: "invalid signature, no keys found",
    });
    // Another key under our key's ID: the signature does not hold.
    const forged = await new CompactSign(
      new TextEncoder().encode(JSON.stringify({ iss: ISSUER, sub: "system:serviceaccount:ns:robot" })),
    )
      .setProtectedHeader({ alg: "RS256", kid: key.keyID })
      .sign(other.privateKey);
    assert.deepEqual(await authn.authenticateToken(forged, undefined), {
      error: "go-jose/go-jose: error in cryptographic primitive",
    });
  });

  test("every configured key verifies (rotation); every issuer is accepted", async () => {
    const { authn } = setup({ keys: [other, key], issuers: ["https://old", ISSUER] });
    for (const token of [await issue(), await issue({ signer: other, issuer: "https://old" })]) {
      const r = await authn.authenticateToken(token, undefined);
      assert.ok(r && "user" in r, JSON.stringify(r));
    }
  });

  test("a deleted pod, a recreated service account invalidate the token", async () => {
    const { authn, objects } = setup();
    const token = await issue({ bound: true });
    objects.pods.clear();
    assert.deepEqual(await authn.authenticateToken(token, undefined), {
      error: "service account token has been invalidated",
    });
    put(objects, serviceAccount("ns", "robot", "new-uid"));
    assert.deepEqual(await authn.authenticateToken(await issue(), undefined), {
      error: "service account UID (new-uid) does not match claim (sa-uid)",
    });
  });
});
