// pods/{name}/ephemeralcontainers against a real API server and etcd (issue 12): GET answers
// the pod; strategic-merge, merge and JSON patches and PUT add ephemeral containers, and nothing
// else of the pod changes through it; existing ones can be neither removed nor changed; the
// ephemeral rules (no ports, probes, resources or lifecycle, names unique across every
// container, targetContainerName naming a container) with upstream's messages; a pod created
// with ephemeral containers, or a regular update that changes them, is refused; templates may
// not carry them; PodSecurity checks what it adds. RBAC: system:aggregate-to-edit
// grants pods/attach but not pods/ephemeralcontainers, as upstream.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isStatusError, type StatusError } from "#pkg/api/errors.js";
import { CLUSTERROLES, DEPLOYMENTS, PODS } from "#pkg/api/resources.js";
import type { Deployment, EphemeralContainer, Pod } from "#pkg/api/types/index.js";
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

const pod = (name: string): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default", labels: { app: name } },
  spec: {
    initContainers: [{ name: "init", image: "busybox", command: ["true"] }],
    containers: [{ name: "app", image: "busybox", command: ["sleep", "3600"] }],
  },
});

const debugger1: EphemeralContainer = {
  name: "debugger",
  image: "busybox",
  command: ["sh"],
  stdin: true,
  tty: true,
  targetContainerName: "app",
};

/** The Invalid Status of a refused write, with its causes. */
async function refused(p: Promise<unknown>): Promise<StatusError> {
  try {
    await p;
  } catch (err) {
    if (isStatusError(err)) return err;
    throw err;
  }
  assert.fail("the write was accepted");
}

const causes = (err: StatusError) =>
  (err.toStatus().details?.causes ?? []).map((c) => `${c.field}: ${c.message}`).sort();

describe("pods/ephemeralcontainers", () => {
  test("GET answers the pod; a strategic-merge patch adds an ephemeral container, defaulted, and changes nothing else", async () => {
    const created = await srv.client.create(PODS, "default", pod("p1"));
    const got = await srv.client.get(PODS, "default", "p1", { subresource: "ephemeralcontainers" });
    assert.equal(got.kind, "Pod");
    assert.equal(got.metadata.uid, created.metadata.uid);
    // What kubectl debug sends: the new list, plus changes elsewhere that the subresource drops.
    const patched = await srv.client.patch(
      PODS,
      "default",
      "p1",
      {
        metadata: { labels: { sneaky: "yes" } },
        spec: { ephemeralContainers: [debugger1], activeDeadlineSeconds: 5 },
      },
      "strategic",
      { subresource: "ephemeralcontainers" },
    );
    const ec = patched.spec?.ephemeralContainers ?? [];
    assert.equal(ec.length, 1);
    assert.equal(ec[0]?.name, "debugger");
    assert.equal(ec[0]?.targetContainerName, "app");
    assert.equal(ec[0]?.terminationMessagePolicy, "File");
    assert.equal(ec[0]?.terminationMessagePath, "/dev/termination-log");
    assert.equal(ec[0]?.imagePullPolicy, "Always");
    assert.deepEqual(patched.metadata.labels, { app: "p1" });
    assert.equal(patched.spec?.activeDeadlineSeconds, undefined);
    assert.equal(patched.metadata.generation, (created.metadata.generation ?? 1) + 1);
    // A second one merges in by name beside the first.
    const two = await srv.client.patch(
      PODS,
      "default",
      "p1",
      { spec: { ephemeralContainers: [{ name: "debugger-2", image: "busybox", imagePullPolicy: "Never" }] } },
      "strategic",
      { subresource: "ephemeralcontainers" },
    );
    assert.deepEqual(
      two.spec?.ephemeralContainers?.map((c) => c.name),
      ["debugger", "debugger-2"],
    );
  });

  test("merge and JSON patches and PUT add ephemeral containers too", async () => {
    await srv.client.create(PODS, "default", pod("p2"));
    await srv.client.patch(
      PODS,
      "default",
      "p2",
      { spec: { ephemeralContainers: [{ name: "a", image: "busybox" }] } },
      "merge",
      { subresource: "ephemeralcontainers" },
    );
    await srv.client.patch(
      PODS,
      "default",
      "p2",
      [{ op: "add", path: "/spec/ephemeralContainers/-", value: { name: "b", image: "busybox" } }],
      "json",
      { subresource: "ephemeralcontainers" },
    );
    const cur = await srv.client.get(PODS, "default", "p2", { subresource: "ephemeralcontainers" });
    cur.spec?.ephemeralContainers?.push({ name: "c", image: "busybox" });
    const put = await srv.client.update(PODS, "default", cur, { subresource: "ephemeralcontainers" });
    assert.deepEqual(
      put.spec?.ephemeralContainers?.map((c) => c.name),
      ["a", "b", "c"],
    );
    // kubectl reads them back as any client does.
    const names = await kc.ok(["get", "pod", "p2", "-o", "jsonpath={.spec.ephemeralContainers[*].name}"]);
    assert.equal(names, "a b c");
  });

  test("existing ephemeral containers may be neither removed nor changed", async () => {
    await srv.client.create(PODS, "default", pod("p3"));
    await srv.client.patch(PODS, "default", "p3", { spec: { ephemeralContainers: [debugger1] } }, "strategic", {
      subresource: "ephemeralcontainers",
    });
    const removed = await refused(
      srv.client.patch(PODS, "default", "p3", [{ op: "remove", path: "/spec/ephemeralContainers/0" }], "json", {
        subresource: "ephemeralcontainers",
      }),
    );
    assert.equal(removed.code, 422);
    assert.deepEqual(causes(removed), [
      'spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be removed\n',
    ]);
    assert.match(
      removed.message,
      /^Pod "p3" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be removed/,
    );
    const changed = await refused(
      srv.client.patch(
        PODS,
        "default",
        "p3",
        { spec: { ephemeralContainers: [{ name: "debugger", image: "busybox:1.36" }] } },
        "strategic",
        { subresource: "ephemeralcontainers" },
      ),
    );
    assert.equal(changed.code, 422);
    assert.match(changed.message, /existing ephemeral containers "debugger" may not be changed/);
  });

  test("the ephemeral rules, with upstream's messages", async () => {
    await srv.client.create(PODS, "default", pod("p4"));
    const bad = await refused(
      srv.client.patch(
        PODS,
        "default",
        "p4",
        {
          spec: {
            ephemeralContainers: [
              {
                name: "app",
                image: "busybox",
                targetContainerName: "nope",
                ports: [{ containerPort: 80 }],
                resources: { limits: { cpu: "1" } },
                readinessProbe: { exec: { command: ["true"] } },
                lifecycle: { preStop: { exec: { command: ["true"] } } },
              },
              { name: "init", image: "busybox", targetContainerName: "init" },
              { name: "Bad_Name", image: "" },
            ],
          },
        },
        "strategic",
        { subresource: "ephemeralcontainers" },
      ),
    );
    assert.equal(bad.code, 422);
    assert.equal(bad.toStatus().reason, "Invalid");
    assert.deepEqual(causes(bad), [
      "spec.ephemeralContainers[0].lifecycle: Forbidden: cannot be set for an Ephemeral Container",
      'spec.ephemeralContainers[0].name: Duplicate value: "app"',
      "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container",
      "spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container",
      "spec.ephemeralContainers[0].resources: Forbidden: cannot be set for an Ephemeral Container",
      'spec.ephemeralContainers[0].targetContainerName: Not found: "nope"',
      'spec.ephemeralContainers[1].name: Duplicate value: "init"',
      "spec.ephemeralContainers[2].image: Required value",
      "spec.ephemeralContainers[2].name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]);
    // Names are unique among the ephemeral containers too.
    const dup = await refused(
      srv.client.patch(
        PODS,
        "default",
        "p4",
        {
          spec: {
            ephemeralContainers: [
              { name: "d", image: "busybox" },
              { name: "d", image: "busybox" },
            ],
          },
        },
        "merge",
        { subresource: "ephemeralcontainers" },
      ),
    );
    assert.deepEqual(causes(dup), ['spec.ephemeralContainers[1].name: Duplicate value: "d"']);
    // The pod is as it was.
    const cur = await srv.client.get(PODS, "default", "p4");
    assert.equal(cur.spec?.ephemeralContainers, undefined);
  });

  test("only the subresource changes them: create and the regular update path refuse", async () => {
    const p = pod("p5");
    p.spec = { ...p.spec, containers: p.spec?.containers ?? [], ephemeralContainers: [debugger1] };
    const onCreate = await refused(srv.client.create(PODS, "default", p));
    assert.equal(onCreate.code, 422);
    assert.deepEqual(causes(onCreate), [
      "spec.ephemeralContainers: Forbidden: cannot have ephemeral containers on create",
    ]);
    await srv.client.create(PODS, "default", pod("p5"));
    const onPatch = await refused(
      srv.client.patch(PODS, "default", "p5", { spec: { ephemeralContainers: [debugger1] } }, "strategic"),
    );
    assert.equal(onPatch.code, 422);
    assert.match(
      onPatch.message,
      /^Pod "p5" is invalid: spec: Forbidden: pod updates may not change fields other than/,
    );
    // kubectl edit-style changes go the same way.
    const r = await kc.run([
      "patch",
      "pod",
      "p5",
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { ephemeralContainers: [{ name: "x", image: "busybox" }] } }),
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pod updates may not change fields other than/);
    // Other resources have no such subresource.
    const r2 = await kc.run([
      "patch",
      "deployment",
      "nope",
      "--subresource=ephemeralcontainers",
      "--type=merge",
      "-p",
      "{}",
    ]);
    assert.notEqual(r2.code, 0);
  });

  test("PodSecurity checks what the subresource adds", async () => {
    await kc.ok(["create", "namespace", "locked"]);
    await kc.ok(["label", "namespace", "locked", "pod-security.kubernetes.io/enforce=baseline"]);
    const p = pod("p6");
    p.metadata.namespace = "locked";
    await srv.client.create(PODS, "locked", p);
    const err = await refused(
      srv.client.patch(
        PODS,
        "locked",
        "p6",
        { spec: { ephemeralContainers: [{ name: "root", image: "busybox", securityContext: { privileged: true } }] } },
        "strategic",
        { subresource: "ephemeralcontainers" },
      ),
    );
    assert.equal(err.code, 403);
    assert.match(
      err.message,
      /violates PodSecurity "baseline:latest": privileged \(container "root" must not set securityContext.privileged=true\)/,
    );
    // An unprivileged debugger is let in.
    await srv.client.patch(PODS, "locked", "p6", { spec: { ephemeralContainers: [debugger1] } }, "strategic", {
      subresource: "ephemeralcontainers",
    });
  });

  test("pod templates may not carry ephemeral containers", async () => {
    const d: Deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d1", namespace: "default" },
      spec: {
        selector: { matchLabels: { app: "d1" } },
        template: {
          metadata: { labels: { app: "d1" } },
          spec: {
            containers: [{ name: "c", image: "busybox" }],
            ephemeralContainers: [{ name: "e", image: "busybox" }],
          },
        },
      },
    };
    const err = await refused(srv.client.create(DEPLOYMENTS, "default", d));
    assert.deepEqual(causes(err), [
      "spec.template.spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template",
    ]);
  });

  test("RBAC: edit may attach but not add ephemeral containers, as upstream; discovery lists both subresources", async () => {
    const role = await srv.client.get(CLUSTERROLES, undefined, "system:aggregate-to-edit");
    const resources = (role.rules ?? []).filter((r) => r.verbs.includes("create")).flatMap((r) => r.resources ?? []);
    assert.ok(resources.includes("pods/attach"));
    assert.ok(!(role.rules ?? []).some((r) => r.resources?.includes("pods/ephemeralcontainers")));
    const res = await kc.ok(["get", "--raw", "/api/v1"]);
    const list = JSON.parse(res) as { resources: { name: string; kind: string; verbs: string[] }[] };
    const byName = new Map(list.resources.map((r) => [r.name, r]));
    assert.deepEqual(byName.get("pods/attach"), {
      ...byName.get("pods/attach"),
      kind: "PodAttachOptions",
      verbs: ["create", "get"],
    });
    assert.deepEqual(byName.get("pods/ephemeralcontainers")?.verbs, ["get", "patch", "update"]);
    assert.equal(byName.get("pods/ephemeralcontainers")?.kind, "Pod");
  });
});
