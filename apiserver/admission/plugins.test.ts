import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isNotFound, isStatusError } from "#pkg/api/errors.js";
import { CONFIGMAPS, NAMESPACES, NODES, PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/core.js";
import { buildCommand, parseFlags } from "../flags.js";
import { DEFAULT_ADMISSION_PLUGINS, enabledAdmissionPlugins, newAdmissionChain } from "./plugins.js";
import { attrs, fakeContext, namespace } from "./testing.js";

describe("--enable-admission-plugins / --disable-admission-plugins", () => {
  test("defaults, plus the enabled, minus the disabled, in upstream's order", () => {
    assert.deepEqual(enabledAdmissionPlugins(), [...DEFAULT_ADMISSION_PLUGINS]);
    assert.ok(DEFAULT_ADMISSION_PLUGINS.includes("NamespaceLifecycle"));
    assert.ok(DEFAULT_ADMISSION_PLUGINS.includes("PodSecurity"));
    assert.ok(!DEFAULT_ADMISSION_PLUGINS.includes("AlwaysDeny"));
    const names = enabledAdmissionPlugins(["AlwaysDeny", "AlwaysAdmit"], ["PodSecurity"]);
    assert.equal(names[0], "AlwaysAdmit");
    assert.equal(names.at(-1), "AlwaysDeny");
    assert.ok(!names.includes("PodSecurity"));
  });

  test("unknown and overlapping names are upstream's errors", () => {
    assert.throws(() => enabledAdmissionPlugins(["Nope"]), {
      message: 'enable-admission-plugins plugin "Nope" is unknown',
    });
    assert.throws(() => enabledAdmissionPlugins([], ["Nope"]), {
      message: 'disable-admission-plugins plugin "Nope" is unknown',
    });
    assert.throws(() => enabledAdmissionPlugins(["PodSecurity"], ["PodSecurity"]), {
      message: "[PodSecurity] in enable-admission-plugins and disable-admission-plugins overlapped",
    });
  });

  test("the API server's flags", () => {
    const o = parseFlags([
      "node",
      "main",
      "--enable-admission-plugins=AlwaysDeny",
      "--disable-admission-plugins=Priority",
    ]);
    assert.ok(o.admissionPlugins.includes("AlwaysDeny"));
    assert.ok(!o.admissionPlugins.includes("Priority"));
    assert.deepEqual(parseFlags(["node", "main"]).admissionPlugins, [...DEFAULT_ADMISSION_PLUGINS]);
    const help = buildCommand().helpInformation();
    assert.ok(help.includes("--enable-admission-plugins"));
    assert.ok(help.includes("--disable-admission-plugins"));
  });
});

describe("the default plugins", () => {
  const ctx = fakeContext({
    namespaces: [namespace("ns"), namespace("gone", {}, "Terminating")],
    objects: {
      "/serviceaccounts": [
        { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: "ns" } },
      ],
    },
  });
  const chain = newAdmissionChain(ctx);

  test("a new pod gets its ServiceAccount and token volume, priority and default tolerations", async () => {
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "ns" },
      spec: {
        containers: [{ name: "c" }],
        tolerations: [
          { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 5 },
        ],
      },
    };
    const { a } = attrs(PODS, "CREATE", { namespace: "ns", object: pod });
    await chain.admit(a);
    await chain.validate(a);
    assert.equal(pod.spec?.serviceAccountName, "default");
    assert.equal(pod.spec?.serviceAccount, "default");
    assert.match(pod.spec?.volumes?.[0]?.name ?? "", /^kube-api-access-[a-z0-9]{5}$/);
    assert.equal(pod.spec?.priority, 0);
    assert.equal(pod.spec?.preemptionPolicy, "PreemptLowerPriority");
    assert.deepEqual(
      pod.spec?.tolerations?.map((t) => `${t.key}:${t.tolerationSeconds}`),
      ["node.kubernetes.io/unreachable:5", "node.kubernetes.io/not-ready:300"],
    );
  });

  test("NamespaceLifecycle: missing namespace 404, terminating namespace 403, immortal namespaces", async () => {
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } };
    const missing = attrs(CONFIGMAPS, "CREATE", { namespace: "nope", object: structuredClone(cm) });
    await assert.rejects(
      chain.admit(missing.a),
      (err) => isNotFound(err) && (err as Error).message === 'namespaces "nope" not found',
    );
    const terminating = attrs(CONFIGMAPS, "CREATE", { namespace: "gone", object: structuredClone(cm) });
    await assert.rejects(chain.admit(terminating.a), {
      message:
        'configmaps "c" is forbidden: unable to create new content in namespace gone because it is being terminated',
    });
    // Deletes in a terminating namespace, and cluster-scoped kinds, pass.
    await chain.admit(attrs(CONFIGMAPS, "DELETE", { namespace: "gone", name: "c" }).a);
    await chain.admit(
      attrs(NODES, "CREATE", { object: { apiVersion: "v1", kind: "Node", metadata: { name: "n" } } }).a,
    );
    const immortal = attrs(NAMESPACES, "DELETE", { name: "kube-system" });
    await assert.rejects(chain.admit(immortal.a), (err) => {
      assert.ok(isStatusError(err));
      assert.equal(err.code, 403);
      assert.equal(err.message, 'namespaces "kube-system" is forbidden: this namespace may not be deleted');
      return true;
    });
  });

  test("AlwaysDeny refuses with upstream's message", async () => {
    const deny = newAdmissionChain(ctx, ["AlwaysDeny"]);
    const { a } = attrs(CONFIGMAPS, "CREATE", {
      namespace: "ns",
      object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } },
    });
    await assert.rejects(deny.admit(a), {
      message: 'configmaps "c" is forbidden: admission control is denying all modifications',
    });
  });
});
