import assert from "node:assert/strict";
import { createHash, generateKeyPairSync } from "node:crypto";
import { describe, test } from "node:test";
import { newCA } from "#pkg/pki/certs.js";
import { algorithmOf, keyIDOf, PublicKeys, parsePublicKeys, parseSigningKey, publicJWK } from "./keys.js";

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const ec = generateKeyPairSync("ec", { namedCurve: "P-384" });
const pem = (k: { export(o: object): string | Buffer }, type: string) => k.export({ type, format: "pem" }).toString();

describe("service account keys", () => {
  test("the key ID is base64url(SHA-256(PKIX DER)), the algorithm follows the key", () => {
    const der = rsa.publicKey.export({ type: "spki", format: "der" });
    assert.equal(keyIDOf(rsa.publicKey), createHash("sha256").update(der).digest("base64url"));
    assert.equal(algorithmOf(rsa.publicKey), "RS256");
    assert.equal(algorithmOf(ec.privateKey), "ES384");
    assert.equal(algorithmOf(generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey), "ES256");
    assert.throws(() => algorithmOf(generateKeyPairSync("ed25519").publicKey), /must be RSA or ECDSA/);
  });

  test("a key file: public keys, private keys (their public half) and certificates, in order", async () => {
    const ca = await newCA("some-ca");
    const text = [
      pem(rsa.publicKey, "pkcs1"),
      "junk between blocks\n",
      pem(ec.privateKey, "sec1"),
      ca.cert,
      pem(rsa.privateKey, "pkcs8"),
    ].join("");
    const keys = parsePublicKeys(text);
    assert.equal(keys.length, 4);
    assert.deepEqual(
      keys.map((k) => k.alg),
      ["RS256", "ES384", "ES256", "RS256"],
    );
    assert.equal(keys[0]?.keyID, keys[3]?.keyID, "a private key verifies as its public key");
    assert.ok(keys.every((k) => k.key.type === "public"));
    assert.throws(
      () => parsePublicKeys("no keys here", "sa.pub"),
      /^Error: sa.pub: data does not contain any valid RSA or ECDSA public keys$/,
    );
  });

  test("a signing key is a private key; its ID is its public key's", () => {
    const k = parseSigningKey(pem(rsa.privateKey, "pkcs1"));
    assert.equal(k.keyID, keyIDOf(rsa.publicKey));
    assert.equal(k.alg, "RS256");
    assert.throws(() => parseSigningKey(pem(rsa.publicKey, "spki"), "sa.key"), /sa.key: not a PEM private key/);
  });

  test("PublicKeys: by key ID, all without one, each key once", () => {
    const [a] = parsePublicKeys(pem(rsa.publicKey, "spki"));
    const [b] = parsePublicKeys(pem(ec.publicKey, "spki"));
    assert.ok(a && b);
    const keys = new PublicKeys([a, b, a]);
    assert.deepEqual(
      keys.all.map((k) => k.keyID),
      [a.keyID, b.keyID],
    );
    assert.deepEqual(keys.get(b.keyID), [b]);
    assert.deepEqual(keys.get(undefined), keys.all);
    assert.deepEqual(keys.get("unknown"), []);
  });

  test("JWKs as upstream's encoder writes them", () => {
    const [a] = parsePublicKeys(pem(rsa.publicKey, "spki"));
    const [b] = parsePublicKeys(pem(ec.publicKey, "spki"));
    assert.ok(a && b);
    const jwkA = publicJWK(a);
    assert.deepEqual(Object.keys(jwkA), ["use", "kty", "kid", "alg", "n", "e"]);
    assert.equal(jwkA.e, "AQAB");
    assert.equal(jwkA.kid, a.keyID);
    const jwkB = publicJWK(b);
    assert.deepEqual(Object.keys(jwkB), ["use", "kty", "kid", "crv", "alg", "x", "y"]);
    assert.equal(jwkB.crv, "P-384");
    assert.equal(jwkB.use, "sig");
  });
});
