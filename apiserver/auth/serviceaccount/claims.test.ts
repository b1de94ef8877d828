import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { serviceAccountUser, type TokenClaims, tokenClaims, validateClaims } from "./claims.js";
import { emptyObjects, fakeGetter, node, pod, put, secret, serviceAccount } from "./testing.js";

const NOW = new Date("2026-03-01T12:00:00.750Z");
const T = Math.floor(NOW.getTime() / 1000);
const sa = serviceAccount("ns", "robot", "sa-uid");

function world() {
  const objects = emptyObjects();
  put(
    objects,
    sa,
    pod("ns", "p", "pod-uid", { sa: "robot", node: "n1" }),
    node("n1", "node-uid"),
    secret("ns", "s", "sec-uid"),
  );
  return { objects, getter: fakeGetter(objects) };
}

const claimsFor = (o: Partial<Parameters<typeof tokenClaims>[0]> = {}): TokenClaims =>
  tokenClaims({ sa, expirationSeconds: 3600, audiences: ["api"], now: NOW, jti: "the-jti", ...o });

async function rejects(claims: TokenClaims, message: string, getter = world().getter, now = NOW) {
  await assert.rejects(validateClaims(claims, getter, now), (err: Error) => {
    assert.equal(err.message, message);
    return true;
  });
}

describe("service account token claims", () => {
  test("upstream's claims, keys sorted as its encoder writes them", () => {
    const c = claimsFor();
    assert.deepEqual(c, {
      aud: ["api"],
      exp: T + 3600,
      iat: T,
      jti: "the-jti",
      "kubernetes.io": { namespace: "ns", serviceaccount: { name: "robot", uid: "sa-uid" } },
      nbf: T,
      sub: "system:serviceaccount:ns:robot",
    });
    assert.deepEqual(Object.keys(c), ["aud", "exp", "iat", "jti", "kubernetes.io", "nbf", "sub"]);
    assert.match(tokenClaims({ sa, expirationSeconds: 600, audiences: [], now: NOW }).jti ?? "", /^[0-9a-f-]{36}$/);
  });

  test("bound to a pod (and the node it runs on), a secret or a node; warnafter when extended", () => {
    const { objects } = world();
    const p = objects.pods.get("ns/p");
    const n = objects.nodes.get("n1");
    const c = claimsFor({ bound: { pod: p, node: n }, expirationSeconds: 31536000, warnAfterSeconds: 3607 });
    assert.deepEqual(c["kubernetes.io"], {
      namespace: "ns",
      node: { name: "n1", uid: "node-uid" },
      pod: { name: "p", uid: "pod-uid" },
      serviceaccount: { name: "robot", uid: "sa-uid" },
      warnafter: T + 3607,
    });
    assert.equal(c.exp, T + 31536000);
    assert.deepEqual(claimsFor({ bound: { secret: objects.secrets.get("ns/s") } })["kubernetes.io"]?.secret, {
      name: "s",
      uid: "sec-uid",
    });
    assert.deepEqual(claimsFor({ bound: { node: n } })["kubernetes.io"]?.node, { name: "n1", uid: "node-uid" });
    assert.throws(
      () => claimsFor({ bound: { secret: objects.secrets.get("ns/s"), pod: p } }),
      /token can only be bound to one object type/,
    );
  });

  test("a valid pod-bound token: the service account's user with the pod, node and credential", async () => {
    const { objects, getter } = world();
    const c = claimsFor({ bound: { pod: objects.pods.get("ns/p"), node: objects.nodes.get("n1") } });
    const info = await validateClaims(c, getter, NOW);
    assert.deepEqual(serviceAccountUser(info), {
      name: "system:serviceaccount:ns:robot",
      uid: "sa-uid",
      groups: ["system:serviceaccounts", "system:serviceaccounts:ns"],
      extra: {
        "authentication.kubernetes.io/pod-name": ["p"],
        "authentication.kubernetes.io/pod-uid": ["pod-uid"],
        "authentication.kubernetes.io/credential-id": ["JTI=the-jti"],
        "authentication.kubernetes.io/node-name": ["n1"],
        "authentication.kubernetes.io/node-uid": ["node-uid"],
      },
    });
    // The node of a pod-bound token is only informative: gone, the token still holds.
    objects.nodes.delete("n1");
    assert.equal((await validateClaims(c, getter, NOW)).nodeName, "n1");
  });

  test("times, with go-jose's minute of leeway", async () => {
    const c = claimsFor({ expirationSeconds: 600 });
    const at = (s: number) => new Date(NOW.getTime() + s * 1000);
    const { getter } = world();
    await validateClaims(c, getter, at(659)); // within the leeway
    await rejects(c, "service account token has expired", getter, at(662));
    await validateClaims(c, getter, at(-59));
    await rejects(c, "service account token is not valid yet", getter, at(-62));
    await rejects({ ...c, nbf: undefined }, "service account token is issued in the future", getter, at(-62));
  });

  test("the service account must still be there, with the same UID", async () => {
    const { objects, getter } = world();
    await validateClaims(claimsFor(), getter, NOW);
    const stale = claimsFor({ sa: serviceAccount("ns", "robot", "old") });
    await rejects(stale, "service account UID (sa-uid) does not match claim (old)", getter);
    const deleting = {
      ...sa,
      metadata: { ...sa.metadata, deletionTimestamp: new Date(NOW.getTime() - 61_000).toISOString() },
    };
    put(objects, deleting);
    await rejects(claimsFor(), "service account ns/robot has been deleted", getter);
    objects.serviceaccounts.delete("ns/robot");
    await rejects(claimsFor(), 'serviceaccounts "robot" not found', getter);
  });

  test("a pod-bound token dies with its pod (and with a new pod of that name)", async () => {
    const { objects, getter } = world();
    const c = claimsFor({ bound: { pod: objects.pods.get("ns/p") } });
    const p = objects.pods.get("ns/p");
    assert.ok(p);
    // Being deleted: still valid through the grace period and the leeway, as upstream.
    put(objects, {
      ...p,
      metadata: { ...p.metadata, deletionTimestamp: new Date(NOW.getTime() + 30_000).toISOString() },
    });
    await validateClaims(c, getter, NOW);
    put(objects, {
      ...p,
      metadata: { ...p.metadata, deletionTimestamp: new Date(NOW.getTime() - 61_000).toISOString() },
    });
    await rejects(c, "service account token has been invalidated", getter);
    put(objects, pod("ns", "p", "pod-uid-2", { sa: "robot" }));
    await rejects(c, "pod UID (pod-uid-2) does not match service account pod ref claim (pod-uid)", getter);
    objects.pods.delete("ns/p");
    await rejects(c, "service account token has been invalidated", getter);
  });

  test("secret- and node-bound tokens die with their object", async () => {
    const { objects, getter } = world();
    const bySecret = claimsFor({ bound: { secret: objects.secrets.get("ns/s") } });
    const byNode = claimsFor({ bound: { node: objects.nodes.get("n1") } });
    assert.equal((await validateClaims(byNode, getter, NOW)).nodeName, "n1");
    await validateClaims(bySecret, getter, NOW);
    put(objects, secret("ns", "s", "sec-2"), node("n1", "node-2"));
    await rejects(bySecret, "secret UID (sec-2) does not match service account secret ref claim (sec-uid)", getter);
    await rejects(byNode, "node UID (node-2) does not match service account node ref claim (node-uid)", getter);
    objects.secrets.clear();
    objects.nodes.clear();
    await rejects(bySecret, "service account token has been invalidated", getter);
    await rejects(byNode, "service account token has been invalidated", getter);
  });
});
