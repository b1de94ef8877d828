// PodSecurity admission end to end against a real API server and etcd, driven by the real
// kubectl: a namespace labelled enforce=restricted refuses a privileged pod with upstream's
// message and admits a compliant one; warn=baseline lets the pod in and kubectl prints the
// `would violate PodSecurity` warning (for Deployments too); raising a namespace's enforce level
// warns about the pods already there; labels that do not parse are refused.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isStatusError } from "#pkg/api/errors.js";
import { NAMESPACES, PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";

let srv: TestApiServer;
let kc: Kubectl;

before(async () => {
  srv = await startApiServer();
  kc = kubectlFor(srv.kubeconfigPath);
});

after(async () => {
  kc?.close();
  await srv?.stop();
});

const PRIVILEGED_YAML = (ns: string, name: string) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  containers:
  - name: c
    image: busybox
    securityContext:
      privileged: true
`;

const compliantPod = (ns: string, name: string): Pod => ({
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

describe("PodSecurity admission", () => {
  test("enforce=restricted refuses a privileged pod with upstream's message and admits a compliant one", async () => {
    await kc.ok(["create", "namespace", "restricted"]);
    await kc.ok(["label", "namespace", "restricted", "pod-security.kubernetes.io/enforce=restricted"]);
    const r = await kc.run(["apply", "-f", "-"], { input: PRIVILEGED_YAML("restricted", "priv") });
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stderr,
      /Error from server \(Forbidden\): error when creating "STDIN": pods "priv" is forbidden: violates PodSecurity "restricted:latest": privileged \(container "c" must not set securityContext\.privileged=true\), allowPrivilegeEscalation != false \(container "c" must set securityContext\.allowPrivilegeEscalation=false\), unrestricted capabilities \(container "c" must set securityContext\.capabilities\.drop=\["ALL"\]\), runAsNonRoot != true \(pod or container "c" must set securityContext\.runAsNonRoot=true\), seccompProfile \(pod or container "c" must set securityContext\.seccompProfile\.type to "RuntimeDefault" or "Localhost"\)/,
    );
    // The same refusal through the API: a Status with reason Forbidden, and nothing stored.
    await assert.rejects(
      srv.client.create(PODS, "restricted", {
        ...compliantPod("restricted", "root"),
        spec: { containers: [{ name: "c", image: "busybox", securityContext: { runAsUser: 0 } }] },
      }),
      (err) =>
        isStatusError(err) &&
        err.code === 403 &&
        /runAsUser=0 \(container "c" must not set runAsUser=0\)/.test(err.message),
    );
    const created = await srv.client.create(PODS, "restricted", compliantPod("restricted", "ok"));
    assert.equal(created.metadata.name, "ok");
    assert.deepEqual(
      (await srv.client.list(PODS, "restricted")).items.map((p) => p.metadata.name),
      ["ok"],
    );
  });

  test("warn=baseline: the pod is created and kubectl prints the warning; Deployments are warned too", async () => {
    await kc.ok(["create", "namespace", "warned"]);
    await kc.ok(["label", "namespace", "warned", "pod-security.kubernetes.io/warn=baseline"]);
    const r = await kc.run(["apply", "-f", "-"], { input: PRIVILEGED_YAML("warned", "priv") });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^pod\/priv created$/m);
    assert.match(
      r.stderr,
      /^Warning: would violate PodSecurity "baseline:latest": privileged \(container "c" must not set securityContext\.privileged=true\)$/m,
    );
    const d = await kc.run(["-n", "warned", "create", "deployment", "web", "--image=busybox", "--", "sleep", "1"]);
    assert.equal(d.code, 0, d.stderr);
    assert.doesNotMatch(d.stderr, /Warning/, "a plain Deployment meets baseline");
    const hostNet = await kc.run(["apply", "-f", "-"], {
      input: `apiVersion: apps/v1
kind: Deployment
metadata: {name: hostnet, namespace: warned}
spec:
  selector: {matchLabels: {app: h}}
  template:
    metadata: {labels: {app: h}}
    spec:
      hostNetwork: true
      containers: [{name: c, image: busybox}]
`,
    });
    assert.equal(hostNet.code, 0, hostNet.stderr);
    assert.match(
      hostNet.stderr,
      /^Warning: would violate PodSecurity "baseline:latest": host namespaces \(hostNetwork=true\)$/m,
    );
  });

  test("raising the enforce level warns about the existing pods; bad labels are refused", async () => {
    const r = await kc.run(["label", "namespace", "warned", "pod-security.kubernetes.io/enforce=baseline"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^Warning: existing pods in namespace "warned" violate the new PodSecurity enforce level "baseline:latest"$/m,
    );
    assert.match(r.stderr, /^Warning: priv: privileged$/m);
    // kubectl prints an Invalid Status without causes as "The <kind> <name> is invalid", as it
    // does against upstream; the message carries the field error.
    const bad = await kc.run([
      "label",
      "namespace",
      "warned",
      "--overwrite",
      "pod-security.kubernetes.io/enforce=strict",
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /The namespaces "warned" is invalid/);
    const patch = { metadata: { labels: { "pod-security.kubernetes.io/enforce": "strict" } } };
    await assert.rejects(
      srv.client.patch(NAMESPACES, undefined, "warned", patch, "merge"),
      (err) =>
        isStatusError(err) &&
        err.code === 422 &&
        err.message ===
          'metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
    );
    const ns = await srv.client.get(NAMESPACES, "", "warned");
    assert.equal(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"], "baseline");
  });
});
