import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { test } from "node:test";
import { parsePublicKeys } from "./keys.js";
import { joinHostPort, openIDMetadata } from "./openid.js";

const pub = (type: "rsa" | "ec") =>
  (type === "rsa"
    ? generateKeyPairSync("rsa", { modulusLength: 2048 })
    : generateKeyPairSync("ec", { namedCurve: "P-256" })
  ).publicKey
    .export({ type: "spki", format: "pem" })
    .toString();
const keys = parsePublicKeys(pub("rsa") + pub("ec"));
const ISSUER = "https://kubernetes.default.svc.cluster.local";

test("the discovery document and the JWKS in upstream's shapes", () => {
  const m = openIDMetadata({ issuer: ISSUER, externalAddress: joinHostPort("10.0.0.1", 6443), keys });
  assert.equal(
    m.configJSON,
    JSON.stringify({
      issuer: ISSUER,
      jwks_uri: "https://10.0.0.1:6443/openid/v1/jwks",
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["ES256", "RS256"],
    }),
  );
  const jwks = JSON.parse(m.keysetJSON) as { keys: Array<Record<string, string>> };
  assert.deepEqual(
    jwks.keys.map((k) => [k.kty, k.alg, k.kid, k.use]),
    keys.map((k) => [k.alg === "RS256" ? "RSA" : "EC", k.alg, k.keyID, "sig"]),
  );
  assert.ok(
    jwks.keys.every((k) => !("d" in k)),
    "public keys only",
  );
  const given = openIDMetadata({ issuer: ISSUER, jwksURI: "https://issuer.example/keys", keys });
  assert.equal(JSON.parse(given.configJSON).jwks_uri, "https://issuer.example/keys");
  assert.equal(joinHostPort("fd00::1", 443), "[fd00::1]:443");
});

test("an issuer that cannot be discovered: upstream's errors", () => {
  const ext = { externalAddress: "a:1", keys };
  assert.throws(() => openIDMetadata({ issuer: "kubernetes/serviceaccount", ...ext }), /invalid URL/);
  assert.throws(
    () => openIDMetadata({ issuer: "http://k8s", ...ext }),
    /^Error: issuer URL must use https scheme, got: http:\/\/k8s$/,
  );
  assert.throws(() => openIDMetadata({ issuer: "https://k8s?x=1", ...ext }), /may not include a query/);
  assert.throws(() => openIDMetadata({ issuer: "https://k8s#x", ...ext }), /may not include a fragment/);
  assert.throws(() => openIDMetadata({ issuer: ISSUER, jwksURI: "http://x/keys", keys }), /jwksURI requires https/);
  assert.throws(() => openIDMetadata({ issuer: ISSUER, keys }), /either the JWKS URI or the default external address/);
  assert.throws(() => openIDMetadata({ issuer: ISSUER, ...ext, keys: [] }), /no keys provided/);
});
