import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isStatusError, type StatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { DEPLOYMENTS, NAMESPACES, PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/core.js";
import { attrs, fakeContext, namespace } from "../testing.js";
import { newPodSecurity } from "./admission.js";

const privilegedPod = (name: string, ns = "ns"): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns },
  spec: { containers: [{ name: "c", image: "busybox", securityContext: { privileged: true } }] },
});

const compliantPod = (name: string, ns = "ns"): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: ns },
  spec: {
    securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
    containers: [
      {
        name: "c",
        image: "busybox",
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
      },
    ],
  },
});

async function refusal(p: Promise<void>): Promise<StatusError> {
  try {
    await p;
  } catch (err) {
    if (isStatusError(err)) return err;
    throw err;
  }
  assert.fail("expected a refusal");
}

describe("PodSecurity admission", () => {
  const ctx = fakeContext({
    namespaces: [
      namespace("ns", { "pod-security.kubernetes.io/enforce": "restricted" }),
      namespace("warned", {
        "pod-security.kubernetes.io/warn": "baseline",
        "pod-security.kubernetes.io/audit": "restricted",
      }),
      namespace("open"),
    ],
  });
  const plugin = newPodSecurity(ctx);

  test("enforce refuses a pod with upstream's message and records the policy", async () => {
    const { a, sink } = attrs(PODS, "CREATE", { namespace: "ns", object: privilegedPod("p") });
    const err = await refusal(plugin.validate?.(a) as Promise<void>);
    assert.equal(err.code, 403);
    assert.equal(err.reason, "Forbidden");
    assert.match(
      err.message,
      /^pods "p" is forbidden: violates PodSecurity "restricted:latest": privileged \(container "c" must not set securityContext\.privileged=true\), allowPrivilegeEscalation != false/,
    );
    assert.deepEqual(err.details, { name: "p", group: "", kind: "pods" });
    assert.equal(sink.annotations["pod-security.kubernetes.io/enforce-policy"], "restricted:latest");
    assert.deepEqual(sink.warnings, [], "no warnings on a refused request");
  });

  test("a generated name is reported by its generateName", async () => {
    const pod = privilegedPod("");
    pod.metadata = { generateName: "web-", namespace: "ns" };
    const { a } = attrs(PODS, "CREATE", { namespace: "ns", object: pod, name: "" });
    const err = await refusal(plugin.validate?.(a) as Promise<void>);
    assert.match(err.message, /^pods "web-" is forbidden: violates PodSecurity/);
  });

  test("a compliant pod passes", async () => {
    const { a, sink } = attrs(PODS, "CREATE", { namespace: "ns", object: compliantPod("p") });
    await plugin.validate?.(a);
    assert.deepEqual(sink.warnings, []);
  });

  test("warn and audit: the pod passes with a warning and an audit annotation", async () => {
    const { a, sink } = attrs(PODS, "CREATE", { namespace: "warned", object: privilegedPod("p", "warned") });
    await plugin.validate?.(a);
    assert.deepEqual(sink.warnings, [
      'would violate PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)',
    ]);
    assert.match(
      sink.annotations["pod-security.kubernetes.io/audit-violations"] ?? "",
      /^would violate PodSecurity "restricted:latest": privileged/,
    );
  });

  test("workloads are warned, never refused", async () => {
    const deploy: KubeObject = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d", namespace: "ns" },
      spec: { template: { metadata: {}, spec: privilegedPod("x").spec } },
    };
    const enforced = attrs(DEPLOYMENTS, "CREATE", { namespace: "ns", object: deploy });
    await plugin.validate?.(enforced.a);
    assert.deepEqual(enforced.sink.warnings, [], "enforce alone does not warn on templates");
    const warned = attrs(DEPLOYMENTS, "CREATE", { namespace: "warned", object: deploy });
    await plugin.validate?.(warned.a);
    assert.equal(warned.sink.warnings.length, 1);
    assert.match(warned.sink.warnings[0] ?? "", /^would violate PodSecurity "baseline:latest": privileged/);
  });

  test("pod subresources and insignificant updates are not evaluated", async () => {
    const pod = privilegedPod("p");
    const status = attrs(PODS, "UPDATE", { namespace: "ns", object: pod, oldObject: pod, subresource: "status" });
    await plugin.validate?.(status.a);
    const labelsOnly = structuredClone(pod);
    labelsOnly.metadata.labels = { a: "b" };
    const upd = attrs(PODS, "UPDATE", { namespace: "ns", object: labelsOnly, oldObject: pod });
    await plugin.validate?.(upd.a);
    const image = structuredClone(pod);
    (image.spec?.containers[0] as { image: string }).image = "nginx";
    const imgUpd = attrs(PODS, "UPDATE", { namespace: "ns", object: image, oldObject: pod });
    await refusal(plugin.validate?.(imgUpd.a) as Promise<void>);
  });

  test("namespace labels that do not parse are refused with 422", async () => {
    const ns = namespace("x", { "pod-security.kubernetes.io/enforce": "strict" });
    const { a } = attrs(NAMESPACES, "CREATE", { object: ns, name: "x" });
    const err = await refusal(plugin.validate?.(a) as Promise<void>);
    assert.equal(err.code, 422);
    assert.equal(err.reason, "Invalid");
    assert.equal(
      err.message,
      'metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
    );
  });

  test("raising a namespace's enforce level warns about its existing pods", async () => {
    const pods = [
      privilegedPod("b", "open"),
      privilegedPod("a", "open"),
      privilegedPod("c", "open"),
      compliantPod("ok", "open"),
    ];
    const hostNet = privilegedPod("h", "open");
    if (hostNet.spec) hostNet.spec.hostNetwork = true;
    const c = fakeContext({ namespaces: [namespace("open")], objects: { "/pods": [...pods, hostNet] } });
    const p = newPodSecurity(c);
    const next = namespace("open", { "pod-security.kubernetes.io/enforce": "baseline" });
    const { a, sink } = attrs(NAMESPACES, "UPDATE", { object: next, oldObject: namespace("open"), name: "open" });
    await p.validate?.(a);
    assert.deepEqual(sink.warnings, [
      'existing pods in namespace "open" violate the new PodSecurity enforce level "baseline:latest"',
      "a (and 2 other pods): privileged",
      "h: host namespaces, privileged",
    ]);
    // Relaxing (or leaving) the level checks nothing.
    const relax = attrs(NAMESPACES, "UPDATE", { object: namespace("open"), oldObject: next, name: "open" });
    await p.validate?.(relax.a);
    assert.deepEqual(relax.sink.warnings, []);
  });
});
