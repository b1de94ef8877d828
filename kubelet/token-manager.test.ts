import assert from "node:assert/strict";
import { test } from "node:test";
import { FakeClock } from "#pkg/runtime/clock.js";
import { silentLogger } from "#pkg/runtime/log.js";
import { TokenManager, type TokenRequest } from "./token-manager.js";

const pod = { namespace: "ns", name: "p", uid: "u1", serviceAccountName: "sa" };

function manager(clock: FakeClock, fail = { now: false }) {
  const requests: Array<{ namespace: string; sa: string; tr: TokenRequest }> = [];
  const m = new TokenManager({
    clock,
    log: silentLogger,
    request: async (namespace, sa, tr) => {
      requests.push({ namespace, sa, tr });
      if (fail.now) throw new Error('serviceaccounts "sa" is forbidden');
      const seconds = tr.spec.expirationSeconds ?? 3600;
      return {
        ...tr,
        status: {
          token: `token-${requests.length}`,
          expirationTimestamp: new Date(clock.now() + seconds * 1000).toISOString(),
        },
      };
    },
  });
  return { m, requests };
}

test("a pod-bound token for the pod's account, cached until 80% of its lifetime, then refreshed", async () => {
  const clock = new FakeClock();
  const { m, requests } = manager(clock);
  assert.equal(await m.token(pod, { expirationSeconds: 1000 }), "token-1");
  assert.deepEqual(requests[0]?.tr.spec, {
    audiences: [],
    expirationSeconds: 1000,
    boundObjectRef: { apiVersion: "v1", kind: "Pod", name: "p", uid: "u1" },
  });
  assert.equal(requests[0]?.namespace, "ns");
  assert.equal(requests[0]?.sa, "sa");
  clock.step(790_000);
  assert.equal(await m.token(pod, { expirationSeconds: 1000 }), "token-1");
  clock.step(20_000);
  assert.equal(await m.token(pod, { expirationSeconds: 1000 }), "token-2");
  assert.equal(requests.length, 2);
});

test("audiences and lifetimes are cached apart; a pod that is gone is forgotten", async () => {
  const clock = new FakeClock();
  const { m, requests } = manager(clock);
  await m.token(pod, {});
  await m.token(pod, { audience: "vault" });
  await m.token(pod, {});
  assert.equal(requests.length, 2);
  assert.deepEqual(requests[1]?.tr.spec.audiences, ["vault"]);
  assert.equal(requests[0]?.tr.spec.expirationSeconds, 3600);
  m.forgetPod("u1");
  await m.token(pod, {});
  assert.equal(requests.length, 3);
});

test("a day-old token is refreshed however long it lives", async () => {
  const clock = new FakeClock();
  const { m, requests } = manager(clock);
  await m.token(pod, { expirationSeconds: 7 * 24 * 3600 });
  clock.step(24 * 3_600_000);
  await m.token(pod, { expirationSeconds: 7 * 24 * 3600 });
  assert.equal(requests.length, 2);
});

test("a failed refresh serves the still-valid token; an expired one is an error", async () => {
  const clock = new FakeClock();
  const fail = { now: false };
  const { m } = manager(clock, fail);
  await m.token(pod, { expirationSeconds: 1000 });
  fail.now = true;
  clock.step(900_000);
  assert.equal(await m.token(pod, { expirationSeconds: 1000 }), "token-1");
  clock.step(100_000);
  await assert.rejects(m.token(pod, { expirationSeconds: 1000 }), {
    message: 'failed to fetch token: serviceaccounts "sa" is forbidden',
  });
});
