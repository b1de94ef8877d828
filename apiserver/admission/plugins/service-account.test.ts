import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { notFound } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { PODS } from "#pkg/api/resources.js";
import type { Pod, ServiceAccount } from "#pkg/api/types/core.js";
import type { Store } from "../../registry/store.js";
import { attrs, fakeContext, namespace } from "../testing.js";
import { DEFAULT_API_TOKEN_MOUNT_PATH, newServiceAccountAdmission, tokenVolume } from "./service-account.js";

const sa = (name: string, extra: Partial<ServiceAccount> = {}): ServiceAccount => ({
  apiVersion: "v1",
  kind: "ServiceAccount",
  metadata: { name, namespace: "ns" },
  ...extra,
});

const pod = (spec: Partial<NonNullable<Pod["spec"]>> = {}): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "ns" },
  spec: { containers: [{ name: "c" }], ...spec },
});

/** A store whose get finds only `stored` (what storage has but the watch cache lacks). */
function storeOf(stored: KubeObject[], gets: string[] = []): Store {
  return {
    get: async (ns: string, name: string) => {
      gets.push(`${ns}/${name}`);
      const o = stored.find((x) => x.metadata.namespace === ns && x.metadata.name === name);
      if (!o) throw notFound({ group: "", resource: "serviceaccounts" }, name);
      return o;
    },
  } as unknown as Store;
}

function plugin(cached: ServiceAccount[], stored: KubeObject[] = [], gets: string[] = []) {
  const ctx = fakeContext({
    namespaces: [namespace("ns")],
    objects: { "/serviceaccounts": cached },
    stores: { "/serviceaccounts": storeOf(stored, gets) },
  });
  return newServiceAccountAdmission(ctx, { generateSuffix: () => "abcde", retryMs: () => 1 });
}

async function admit(p: ReturnType<typeof plugin>, obj: Pod): Promise<Pod> {
  const { a } = attrs(PODS, "CREATE", { namespace: "ns", object: obj });
  await p.admit?.(a);
  await p.validate?.(a);
  return obj;
}

describe("ServiceAccount admission", () => {
  test("the default account, and the kube-api-access volume mounted read-only in every container", async () => {
    const p = await admit(
      plugin([sa("default")]),
      pod({
        initContainers: [{ name: "init" }],
        containers: [
          { name: "a" },
          { name: "b", volumeMounts: [{ name: "mine", mountPath: DEFAULT_API_TOKEN_MOUNT_PATH }] },
        ],
        volumes: [{ name: "mine", emptyDir: {} }],
      }),
    );
    assert.equal(p.spec?.serviceAccountName, "default");
    assert.equal(p.spec?.serviceAccount, "default");
    const mount = { name: "kube-api-access-abcde", readOnly: true, mountPath: DEFAULT_API_TOKEN_MOUNT_PATH };
    assert.deepEqual(p.spec?.initContainers?.[0]?.volumeMounts, [mount]);
    assert.deepEqual(p.spec?.containers[0]?.volumeMounts, [mount]);
    // A container that mounts something of its own there keeps it.
    assert.deepEqual(p.spec?.containers[1]?.volumeMounts, [{ name: "mine", mountPath: DEFAULT_API_TOKEN_MOUNT_PATH }]);
    assert.deepEqual(p.spec?.volumes?.at(-1), tokenVolume("kube-api-access-abcde"));
    const sources = tokenVolume("x").projected?.sources ?? [];
    assert.deepEqual(sources[0]?.serviceAccountToken, { path: "token", expirationSeconds: 3607 });
    assert.equal(sources[1]?.configMap?.name, "kube-root-ca.crt");
    assert.equal(sources[2]?.downwardAPI?.items?.[0]?.fieldRef?.fieldPath, "metadata.namespace");
  });

  test("automountServiceAccountToken: the pod's setting wins over the account's", async () => {
    const off = await admit(plugin([sa("default", { automountServiceAccountToken: false })]), pod());
    assert.equal(off.spec?.volumes, undefined);
    assert.equal(off.spec?.containers[0]?.volumeMounts, undefined);
    const on = await admit(
      plugin([sa("default", { automountServiceAccountToken: false })]),
      pod({ automountServiceAccountToken: true }),
    );
    assert.equal(on.spec?.volumes?.length, 1);
    const podOff = await admit(plugin([sa("default")]), pod({ automountServiceAccountToken: false }));
    assert.equal(podOff.spec?.volumes, undefined);
  });

  test("a named account, its imagePullSecrets when the pod has none, and the deprecated alias", async () => {
    const p = await admit(
      plugin([sa("robot", { imagePullSecrets: [{ name: "regcred" }] })]),
      pod({ serviceAccount: "robot" }),
    );
    assert.equal(p.spec?.serviceAccountName, "robot");
    assert.deepEqual(p.spec?.imagePullSecrets, [{ name: "regcred" }]);
    const own = await admit(
      plugin([sa("robot", { imagePullSecrets: [{ name: "regcred" }] })]),
      pod({ serviceAccountName: "robot", imagePullSecrets: [{ name: "mine" }] }),
    );
    assert.deepEqual(own.spec?.imagePullSecrets, [{ name: "mine" }]);
  });

  test("an account the cache lacks is read from storage", async () => {
    const p = await admit(plugin([], [sa("late")]), pod({ serviceAccountName: "late" }));
    assert.equal(p.spec?.volumes?.length, 1);
  });

  test("a missing account is refused with upstream's message; the default one after retries", async () => {
    const gets: string[] = [];
    await assert.rejects(admit(plugin([], [], gets), pod({ serviceAccountName: "nope" })), {
      message: 'pods "p" is forbidden: error looking up service account ns/nope: serviceaccount "nope" not found',
    });
    assert.equal(gets.length, 1);
    gets.length = 0;
    await assert.rejects(admit(plugin([], [], gets), pod()), {
      message: 'pods "p" is forbidden: error looking up service account ns/default: serviceaccount "default" not found',
    });
    assert.equal(gets.length, 10);
  });

  test("only pod creates: other kinds and subresources pass untouched", async () => {
    const p = plugin([]);
    const { a } = attrs(PODS, "CREATE", { namespace: "ns", object: pod(), subresource: "binding" });
    await p.admit?.(a);
    assert.equal((a.object as Pod).spec?.serviceAccountName, undefined);
  });

  test("an existing kube-api-access volume is reused, not added twice", async () => {
    const p = await admit(plugin([sa("default")]), pod({ volumes: [tokenVolume("kube-api-access-zzzzz")] }));
    assert.equal(p.spec?.volumes?.length, 1);
    assert.equal(p.spec?.containers[0]?.volumeMounts?.[0]?.name, "kube-api-access-zzzzz");
  });
});
