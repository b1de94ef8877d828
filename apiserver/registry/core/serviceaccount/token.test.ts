import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { describe, test } from "node:test";
import type { KubeObject } from "#pkg/api/meta.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { TokenRequest } from "#pkg/api/types/authentication.js";
import type { RequestSink } from "../../../admission/attributes.js";
import type { TokenClaims } from "../../../auth/serviceaccount/claims.js";
import { JWTTokenGenerator } from "../../../auth/serviceaccount/jwt.js";
import { parseSigningKey } from "../../../auth/serviceaccount/keys.js";
import {
  emptyObjects,
  type FakeObjects,
  fakeGetter,
  node,
  pod,
  put,
  secret,
  serviceAccount,
} from "../../../auth/serviceaccount/testing.js";
import { TokenREST, type TokenRESTOptions } from "./token.js";

const NOW = new Date("2026-03-01T12:00:00.250Z");
const T = Math.floor(NOW.getTime() / 1000);
const ISSUER = "https://kubernetes.default.svc.cluster.local";
const key = parseSigningKey(
  generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString(),
);

function setup(o: Partial<TokenRESTOptions> = {}) {
  const objects: FakeObjects = emptyObjects();
  put(
    objects,
    serviceAccount("ns", "robot", "sa-uid"),
    pod("ns", "p", "pod-uid", { sa: "robot", node: "n1" }),
    pod("ns", "other", "other-uid", { sa: "default" }),
    pod("ns", "lost", "lost-uid", { sa: "robot", node: "gone" }),
    node("n1", "node-uid"),
    secret("ns", "s", "sec-uid"),
  );
  const getter = fakeGetter(objects);
  const store = (r: ResourceInfo) => ({
    get: (ns: string | undefined, name: string): Promise<KubeObject> => {
      switch (r.resource) {
        case "serviceaccounts":
          return getter.getServiceAccount(ns ?? "", name);
        case "pods":
          return getter.getPod(ns ?? "", name);
        case "secrets":
          return getter.getSecret(ns ?? "", name);
        default:
          return getter.getNode(name);
      }
    },
  });
  const rest = new TokenREST({
    generator: new JWTTokenGenerator(ISSUER, key),
    audiences: [ISSUER],
    maxExpirationSeconds: 0,
    extendExpiration: true,
    maxExtendedExpirationSeconds: 365 * 24 * 3600,
    store,
    now: () => NOW,
    ...o,
  });
  return { rest, objects };
}

const body = (spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", metadata, spec }) as KubeObject;
const claimsOf = (r: TokenRequest): TokenClaims =>
  JSON.parse(Buffer.from((r.status?.token ?? "").split(".")[1] as string, "base64url").toString());

async function fails(p: Promise<unknown>, code: number, message: string) {
  await assert.rejects(p, (err: { code: number; message: string }) => {
    assert.equal(err.message, message);
    assert.equal(err.code, code);
    return true;
  });
}

describe("TokenRequest", () => {
  test("defaults: the API audiences, an hour; answered back with the token, nothing stored", async () => {
    const { rest } = setup();
    const sink: RequestSink = { warnings: [], annotations: {} };
    const admitted: TokenRequest[] = [];
    // What client-go sends: Go's nulls.
    const r = await rest.create(
      "ns",
      "robot",
      body({ audiences: null, expirationSeconds: null, boundObjectRef: null }, { creationTimestamp: null }),
      { sink, admit: async (tr) => void admitted.push(tr) },
    );
    assert.equal(admitted.length, 1, "admission saw the defaulted request");
    assert.deepEqual(admitted[0]?.spec, { audiences: [ISSUER], expirationSeconds: 3600 });
    assert.equal(r.kind, "TokenRequest");
    assert.equal(r.apiVersion, "authentication.k8s.io/v1");
    assert.deepEqual(r.metadata, { name: "robot", namespace: "ns", creationTimestamp: "2026-03-01T12:00:00Z" });
    assert.deepEqual(r.spec, { audiences: [ISSUER], expirationSeconds: 3600 });
    assert.equal(r.status?.expirationTimestamp, "2026-03-01T13:00:00Z");
    const c = claimsOf(r);
    assert.equal(c.iss, ISSUER);
    assert.equal(c.sub, "system:serviceaccount:ns:robot");
    assert.deepEqual(c.aud, [ISSUER]);
    assert.equal(c.exp, T + 3600);
    assert.deepEqual(c["kubernetes.io"], { namespace: "ns", serviceaccount: { name: "robot", uid: "sa-uid" } });
    assert.equal(sink.annotations["authentication.kubernetes.io/issued-credential-id"], `JTI=${c.jti}`);
  });

  test("upstream's validation messages", async () => {
    const { rest } = setup();
    await fails(rest.create("ns", "nobody", body()), 404, 'serviceaccounts "nobody" not found');
    await fails(
      rest.create("ns", "robot", body({ expirationSeconds: 60 })),
      422,
      'TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
    );
    await fails(
      rest.create("ns", "robot", body({}, { name: "x" })),
      422,
      'TokenRequest.authentication.k8s.io "robot" is invalid: metadata.name: Invalid value: "x": must match the service account name if specified',
    );
    await fails(
      rest.create("ns", "robot", body({}, { namespace: "other" })),
      422,
      'TokenRequest.authentication.k8s.io "robot" is invalid: metadata.namespace: Invalid value: "other": must match the service account namespace if specified',
    );
  });

  test("bound to a pod: its node too; the pod must run as the service account, with the UID given", async () => {
    const { rest } = setup();
    const r = await rest.create(
      "ns",
      "robot",
      body({ audiences: ["vault"], boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p", uid: "pod-uid" } }),
    );
    assert.deepEqual(r.spec?.audiences, ["vault"]);
    assert.deepEqual(claimsOf(r)["kubernetes.io"], {
      namespace: "ns",
      node: { name: "n1", uid: "node-uid" },
      pod: { name: "p", uid: "pod-uid" },
      serviceaccount: { name: "robot", uid: "sa-uid" },
    });
    // The node is gone: its name only.
    const lost = await rest.create(
      "ns",
      "robot",
      body({ boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "lost" } }),
    );
    assert.deepEqual(claimsOf(lost)["kubernetes.io"]?.node, { name: "gone", uid: "" });
    await fails(
      rest.create("ns", "robot", body({ boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "nope" } })),
      404,
      'pods "nope" not found',
    );
    await fails(
      rest.create("ns", "robot", body({ boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "other" } })),
      400,
      'cannot bind token for serviceaccount "robot" to pod running with different serviceaccount name.',
    );
    await fails(
      rest.create("ns", "robot", body({ boundObjectRef: { kind: "Pod", apiVersion: "v1", name: "p", uid: "old" } })),
      409,
      'Operation cannot be fulfilled on Pod "p": the UID in the bound object reference (old) does not match the UID in record. The object might have been deleted and then recreated',
    );
    await fails(
      rest.create("ns", "robot", body({ boundObjectRef: { kind: "ConfigMap", apiVersion: "v1", name: "c" } })),
      400,
      "cannot bind token to object of type /v1, Kind=ConfigMap",
    );
  });

  test("bound to a secret or a node", async () => {
    const { rest } = setup();
    const s = await rest.create(
      "ns",
      "robot",
      body({ boundObjectRef: { kind: "Secret", apiVersion: "v1", name: "s" } }),
    );
    assert.deepEqual(claimsOf(s)["kubernetes.io"]?.secret, { name: "s", uid: "sec-uid" });
    const n = await rest.create(
      "ns",
      "robot",
      body({ boundObjectRef: { kind: "Node", apiVersion: "v1", name: "n1" } }),
    );
    assert.deepEqual(claimsOf(n)["kubernetes.io"]?.node, { name: "n1", uid: "node-uid" });
    assert.equal(claimsOf(n)["kubernetes.io"]?.pod, undefined);
  });

  test("--service-account-max-token-expiration shortens, with a warning", async () => {
    const { rest } = setup({ maxExpirationSeconds: 7200 });
    const sink: RequestSink = { warnings: [], annotations: {} };
    const r = await rest.create("ns", "robot", body({ expirationSeconds: 86400 }), { sink });
    assert.equal(r.spec?.expirationSeconds, 7200);
    assert.equal(claimsOf(r).exp, T + 7200);
    assert.deepEqual(sink.warnings, ["requested expiration of 86400 seconds shortened to 7200 seconds"]);
  });

  test("a kubelet's 1h7s pod-bound token for the API lives a year, stale after the hour", async () => {
    const podRef = { kind: "Pod", apiVersion: "v1", name: "p" };
    const { rest } = setup();
    const r = await rest.create("ns", "robot", body({ expirationSeconds: 3607, boundObjectRef: podRef }));
    assert.equal(r.status?.expirationTimestamp, "2026-03-01T13:00:07Z", "the status tells the hour asked for");
    assert.equal(claimsOf(r).exp, T + 365 * 24 * 3600);
    assert.equal(claimsOf(r)["kubernetes.io"]?.warnafter, T + 3607);
    // Not for other audiences, not unbound, not when off.
    const vault = await rest.create(
      "ns",
      "robot",
      body({ expirationSeconds: 3607, boundObjectRef: podRef, audiences: ["vault"] }),
    );
    assert.equal(claimsOf(vault).exp, T + 3607);
    assert.equal(claimsOf(await rest.create("ns", "robot", body({ expirationSeconds: 3607 }))).exp, T + 3607);
    const off = setup({ extendExpiration: false }).rest;
    const plain = await off.create("ns", "robot", body({ expirationSeconds: 3607, boundObjectRef: podRef }));
    assert.equal(claimsOf(plain).exp, T + 3607);
    assert.equal(claimsOf(plain)["kubernetes.io"]?.warnafter, undefined);
  });
});
