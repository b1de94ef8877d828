// kubeling's rollout, set, scale and events commands next to the real kubectl, against a real
// kubeling-apiserver (real etcd) and no controllers: each command runs through both tools on twin
// objects ("kc-..." for kubectl, "kl-..." for kubeling), and what they print, their exit codes
// and the objects they leave behind must agree. Deployments' ReplicaSets (with their revision
// annotations) and status are written by hand, as the Deployment controller would.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { KubeObject } from "#pkg/api/meta.js";
import {
  DEPLOYMENTS,
  EVENTS,
  PODS,
  REPLICASETS,
  REPLICATIONCONTROLLERS,
  type ResourceInfo,
} from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { Deployment, Pod } from "#pkg/api/types/index.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { waitFor } from "../harness/wait.js";
import { runCli, spawnCli, stopCli } from "./cli-helpers.js";

const NS = "default";

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe("kubeling rollout/set/scale/events agree with kubectl", () => {
  let server: TestApiServer;
  let kubectl: Kubectl;
  let kc: string[];

  before(async () => {
    server = await startApiServer();
    kubectl = kubectlFor(server.kubeconfigPath);
    kc = ["--kubeconfig", server.kubeconfigPath];
  });
  after(async () => {
    kubectl?.close();
    await server?.stop();
  });

  /** Both tools, NAME standing for "kc-<base>" (kubectl) and "kl-<base>" (kubeling); outputs with "kc-" read as "kl-". */
  async function both(args: string[], base: string): Promise<{ kubectl: Result; kubeling: Result }> {
    const sub = (prefix: string) => args.map((a) => a.replaceAll("NAME", `${prefix}-${base}`));
    const [c, l] = await Promise.all([kubectl.run(sub("kc")), runCli([...kc, ...sub("kl")])]);
    const norm = (r: Result): Result => ({
      ...r,
      stdout: r.stdout.replaceAll("kc-", "kl-"),
      stderr: r.stderr.replaceAll("kc-", "kl-"),
    });
    return { kubectl: norm(c), kubeling: l };
  }

  /** both(), asserting the two print the same and exit the same; returns kubeling's result. */
  async function same(args: string[], base: string): Promise<Result> {
    const r = await both(args, base);
    assert.deepEqual(r.kubeling, r.kubectl, `kubeling ${args.join(" ")} differs from kubectl`);
    return r.kubeling;
  }

  async function twins(base: string, make: (name: string) => KubeObject, r: ResourceInfo = DEPLOYMENTS): Promise<void> {
    for (const p of ["kc", "kl"]) await server.client.create(r, NS, make(`${p}-${base}`));
  }

  const getBoth = async <T extends KubeObject>(r: ResourceInfo, base: string) =>
    Promise.all(["kc", "kl"].map((p) => server.client.get(r, NS, `${p}-${base}`))) as Promise<T[]>;

  function deployment(name: string, image = "img:2"): Deployment {
    return {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: NS, labels: { app: name } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: {
            containers: [
              { name: "app", image, env: [{ name: "KEEP", value: "1" }] },
              { name: "side", image: "envoy:1" },
            ],
          },
        },
      },
    };
  }

  /** A Deployment with ReplicaSets for revisions 1 (img:1) and 2 (img:2, the current template), as the controller leaves them. */
  async function withHistory(name: string): Promise<void> {
    const d = await server.client.create(DEPLOYMENTS, NS, {
      ...deployment(name),
      metadata: {
        name,
        namespace: NS,
        labels: { app: name },
        annotations: { "deployment.kubernetes.io/revision": "2" },
      },
    });
    for (const [rev, image] of [
      ["1", "img:1"],
      ["2", "img:2"],
    ] as const) {
      const labels = { app: name, "pod-template-hash": `h${rev}` };
      const template = deployment(name, image).spec?.template;
      await server.client.create(REPLICASETS, NS, {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
          name: `${name}-h${rev}`,
          labels,
          annotations: { "deployment.kubernetes.io/revision": rev, "kubernetes.io/change-cause": `set ${image}` },
          ownerReferences: [
            { apiVersion: "apps/v1", kind: "Deployment", name, uid: d.metadata.uid ?? "", controller: true },
          ],
        },
        spec: {
          replicas: rev === "2" ? 2 : 0,
          selector: { matchLabels: labels },
          template: { ...template, metadata: { labels } },
        },
      });
    }
  }

  test("rollout pause / resume / restart: messages and errors", async () => {
    await twins("pr", (n) => deployment(n));
    assert.equal((await same(["rollout", "pause", "deployment/NAME"], "pr")).stdout, "deployment.apps/kl-pr paused\n");
    let r = await same(["rollout", "pause", "deployment/NAME"], "pr");
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: deployments.apps "kl-pr" is already paused\n');
    r = await same(["rollout", "restart", "deployment/NAME"], "pr");
    assert.equal(
      r.stderr,
      'error: deployments.apps "kl-pr" can\'t restart paused deployment (run rollout resume first)\n',
    );
    const [cd, ld] = await getBoth<Deployment>(DEPLOYMENTS, "pr");
    assert.equal(cd?.spec?.paused, true);
    assert.equal(ld?.spec?.paused, true);
    assert.equal(
      (await same(["rollout", "resume", "deployment", "NAME"], "pr")).stdout,
      "deployment.apps/kl-pr resumed\n",
    );
    r = await same(["rollout", "resume", "deployment/NAME"], "pr");
    assert.equal(r.stderr, 'error: deployments.apps "kl-pr" is not paused\n');
    assert.equal(
      (await same(["rollout", "restart", "deployment/NAME"], "pr")).stdout,
      "deployment.apps/kl-pr restarted\n",
    );
    for (const d of await getBoth<Deployment>(DEPLOYMENTS, "pr")) {
      assert.equal(d.spec?.paused, undefined);
      assert.match(
        d.spec?.template.metadata?.annotations?.["kubectl.kubernetes.io/restartedAt"] ?? "",
        /^\d{4}-\d\d-\d\dT/,
      );
    }
  });

  test("set image: updated containers, nothing printed for no change, unknown containers, pods and rcs", async () => {
    await twins("img", (n) => deployment(n));
    assert.equal(
      (await same(["set", "image", "deployment/NAME", "app=img:3"], "img")).stdout,
      "deployment.apps/kl-img image updated\n",
    );
    const [cd, ld] = await getBoth<Deployment>(DEPLOYMENTS, "img");
    assert.deepEqual(ld?.spec?.template.spec, cd?.spec?.template.spec);
    assert.deepEqual(
      ld?.spec?.template.spec?.containers.map((c) => c.image),
      ["img:3", "envoy:1"],
    );
    const again = await same(["set", "image", "deployment/NAME", "app=img:3"], "img");
    assert.deepEqual([again.code, again.stdout], [0, ""]);
    const missing = await same(["set", "image", "deploy", "NAME", "nope=x"], "img");
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'error: unable to find container named "nope"\n');
    assert.equal(
      (await same(["set", "image", "deployment/NAME", "*=img:4"], "img")).stdout,
      "deployment.apps/kl-img image updated\n",
    );
    const [c2, l2] = await getBoth<Deployment>(DEPLOYMENTS, "img");
    assert.deepEqual(l2?.spec?.template.spec, c2?.spec?.template.spec);

    await twins(
      "pod",
      (n) => ({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: n },
        spec: { containers: [{ name: "c", image: "a:1" }] },
      }),
      PODS,
    );
    assert.equal((await same(["set", "image", "pod/NAME", "c=a:2"], "pod")).stdout, "pod/kl-pod image updated\n");
    const [cp, lp] = await getBoth<Pod>(PODS, "pod");
    assert.equal(lp?.spec?.containers[0]?.image, "a:2");
    assert.equal(cp?.spec?.containers[0]?.image, "a:2");
    await twins(
      "rc",
      (n) => ({
        apiVersion: "v1",
        kind: "ReplicationController",
        metadata: { name: n },
        spec: { template: { metadata: { labels: { app: n } }, spec: { containers: [{ name: "c", image: "a:1" }] } } },
      }),
      REPLICATIONCONTROLLERS,
    );
    assert.equal(
      (await same(["set", "image", "rc/NAME", "c=a:2"], "rc")).stdout,
      "replicationcontroller/kl-rc image updated\n",
    );
  });

  test("set env: KEY=VAL and KEY- merged by name, --list, a container selector matching nothing", async () => {
    await twins("env", (n) => deployment(n));
    assert.equal(
      (await same(["set", "env", "deployment/NAME", "A=1", "B=two words"], "env")).stdout,
      "deployment.apps/kl-env env updated\n",
    );
    assert.equal(
      (await same(["set", "env", "deployment/NAME", "KEEP-", "A=3"], "env")).stdout,
      "deployment.apps/kl-env env updated\n",
    );
    const [cd, ld] = await getBoth<Deployment>(DEPLOYMENTS, "env");
    assert.deepEqual(ld?.spec?.template.spec, cd?.spec?.template.spec);
    assert.deepEqual(ld?.spec?.template.spec?.containers[0]?.env, [
      { name: "A", value: "3" },
      { name: "B", value: "two words" },
    ]);
    const listed = await same(["set", "env", "deployment/NAME", "--list"], "env");
    assert.equal(
      listed.stdout,
      "# Deployment kl-env, container app\nA=3\nB=two words\n# Deployment kl-env, container side\nA=3\nB=two words\n",
    );
    const none = await same(["set", "env", "deployment/NAME", "-c", "db", "X=1"], "env");
    assert.equal(none.stderr, 'Warning: Deployment/kl-env does not have any containers matching "db"\n');
    const refused = await both(["set", "env", "deployment/NAME", "A=4", "--overwrite=false"], "env");
    assert.equal(refused.kubeling.code, 1);
    assert.equal(refused.kubectl.code, 1);
    assert.match(refused.kubeling.stderr, /'A' already has a value \(3\), and --overwrite is false/);
    assert.match(refused.kubectl.stderr, /'A' already has a value \(3\), and --overwrite is false/);
  });

  test("rollout history (and --revision) and undo (previous, --to-revision, already there, unknown)", async () => {
    for (const p of ["kc", "kl"]) await withHistory(`${p}-hist`);
    const h = await same(["rollout", "history", "deployment/NAME"], "hist");
    assert.equal(
      h.stdout,
      "deployment.apps/kl-hist \nREVISION  CHANGE-CAUSE\n1         set img:1\n2         set img:2\n\n",
    );
    const one = await same(["rollout", "history", "deployment/NAME", "--revision=1"], "hist");
    assert.match(
      one.stdout,
      /^deployment\.apps\/kl-hist with revision #1\nPod Template:\n {2}Labels:\s+app=kl-hist\n\s+pod-template-hash=h1\n {2}Annotations:\s+kubernetes\.io\/change-cause: set img:1\n/,
    );
    const unknown = await same(["rollout", "history", "deployment/NAME", "--revision=7"], "hist");
    assert.deepEqual([unknown.code, unknown.stderr], [1, "error: unable to find the specified revision\n"]);
    const skipped = await same(["rollout", "undo", "deployment/NAME", "--to-revision=2"], "hist");
    assert.equal(
      skipped.stdout,
      "deployment.apps/kl-hist skipped rollback (current template already matches revision 2)\n",
    );
    const nine = await same(["rollout", "undo", "deployment/NAME", "--to-revision=9"], "hist");
    assert.deepEqual([nine.code, nine.stderr], [1, "error: unable to find specified revision 9 in history\n"]);
    assert.equal(
      (await same(["rollout", "undo", "deployment/NAME"], "hist")).stdout,
      "deployment.apps/kl-hist rolled back\n",
    );
    const [cd, ld] = await getBoth<Deployment>(DEPLOYMENTS, "hist");
    assert.deepEqual(ld?.spec?.template, JSON.parse(JSON.stringify(cd?.spec?.template).replaceAll("kc-", "kl-")));
    assert.equal(ld?.spec?.template.spec?.containers[0]?.image, "img:1");
    assert.equal(ld?.spec?.template.metadata?.labels?.["pod-template-hash"], undefined);
    assert.deepEqual(ld?.metadata.annotations, cd?.metadata.annotations);
    assert.deepEqual(ld?.metadata.annotations, {
      "deployment.kubernetes.io/revision": "2",
      "kubernetes.io/change-cause": "set img:1",
    });
    // A paused deployment is not rolled back.
    await same(["rollout", "pause", "deployment/NAME"], "hist");
    const paused = await both(["rollout", "undo", "deployment/NAME"], "hist");
    assert.equal(paused.kubeling.code, 1);
    assert.equal(
      paused.kubeling.stderr,
      paused.kubectl.stderr.replace("'kubectl rollout", "'kubeling rollout"),
      "kubectl's message, naming kubeling",
    );
  });

  test("rollout status: --watch=false once; a watch follows status writes to the end", async () => {
    await twins("st", (n) => deployment(n));
    const setStatus = async (name: string, status: Deployment["status"]) => {
      const cur = await server.client.get(DEPLOYMENTS, NS, name);
      await server.client.update(
        DEPLOYMENTS,
        NS,
        { ...cur, status: { observedGeneration: cur.metadata.generation, ...status } },
        { subresource: "status" },
      );
    };
    for (const p of ["kc", "kl"]) await setStatus(`${p}-st`, { replicas: 2, updatedReplicas: 1 });
    const once = await same(["rollout", "status", "deployment/NAME", "--watch=false"], "st");
    assert.equal(
      once.stdout,
      'Waiting for deployment "kl-st" rollout to finish: 1 out of 2 new replicas have been updated...\n',
    );
    const child = spawnCli([...kc, "rollout", "status", "deployment/kl-st", "--timeout=60s"]);
    try {
      await waitFor(() => child.out().includes("1 out of 2 new replicas"), {
        timeoutMs: 30_000,
        message: "the first status line",
      });
      await setStatus("kl-st", { replicas: 2, updatedReplicas: 2, availableReplicas: 1 });
      await waitFor(() => child.out().includes("1 of 2 updated replicas are available"), {
        timeoutMs: 30_000,
        message: "progress",
      });
      await setStatus("kl-st", { replicas: 2, updatedReplicas: 2, availableReplicas: 2, readyReplicas: 2 });
      const code = await new Promise<number | null>((res) => {
        if (child.exitCode !== null) res(child.exitCode);
        else child.once("exit", (c) => res(c));
      });
      assert.equal(code, 0, child.err());
      assert.equal(
        child.out(),
        [
          'Waiting for deployment "kl-st" rollout to finish: 1 out of 2 new replicas have been updated...',
          'Waiting for deployment "kl-st" rollout to finish: 1 of 2 updated replicas are available...',
          'deployment "kl-st" successfully rolled out',
          "",
        ].join("\n"),
      );
    } finally {
      await stopCli(child);
    }
    const missing = await same(["rollout", "status", "rs/NAME"], "st");
    assert.deepEqual(
      [missing.code, missing.stderr],
      [1, 'Error from server (NotFound): replicasets.apps "kl-st" not found\n'],
    );
    for (const p of ["kc", "kl"]) await withHistory(`${p}-strs`);
    const rs = await same(["rollout", "status", "rs/NAME-h1"], "strs");
    assert.deepEqual([rs.code, rs.stderr], [1, "error: no status viewer has been implemented for ReplicaSet.apps\n"]);
  });

  test("scale: --current-replicas precondition, several objects at once", async () => {
    await twins("sc", (n) => deployment(n));
    const wrong = await same(["scale", "deployment/NAME", "--current-replicas=5", "--replicas=3"], "sc");
    assert.deepEqual([wrong.code, wrong.stderr], [1, "error: Expected replicas to be 5, was 2\n"]);
    assert.equal(
      (await same(["scale", "deployment/NAME", "--current-replicas=2", "--replicas=3"], "sc")).stdout,
      "deployment.apps/kl-sc scaled\n",
    );
    await twins("sc2", (n) => deployment(n));
    const r = await runCli([...kc, "scale", "deployment/kl-sc", "deployment/kl-sc2", "--replicas=4"]);
    assert.equal(r.stdout, "deployment.apps/kl-sc scaled\ndeployment.apps/kl-sc2 scaled\n");
    for (const n of ["kl-sc", "kl-sc2"]) assert.equal((await server.client.get(DEPLOYMENTS, NS, n)).spec?.replicas, 4);
  });

  test("create deployment: the same object as kubectl's, and its AlreadyExists message", async () => {
    const args = ["create", "deployment", "NAME", "--image=busybox:1.36,nginx", "-r", "3", "--port=8080"];
    const created = await same(args, "cd");
    assert.equal(created.stdout, "deployment.apps/kl-cd created\n");
    const [cd, ld] = await getBoth<Deployment>(DEPLOYMENTS, "cd");
    assert.deepEqual(ld?.spec, JSON.parse(JSON.stringify(cd?.spec).replaceAll("kc-", "kl-")));
    assert.deepEqual(ld?.metadata.labels, { app: "kl-cd" });
    const dry = await same(
      ["create", "deployment", "NAME", "--image=nginx:1.25", "--dry-run=client", "-o", "yaml"],
      "dry",
    );
    assert.match(dry.stdout, /^apiVersion: apps\/v1\nkind: Deployment\nmetadata:\n {2}creationTimestamp: null\n/);
    const dup = await same(args, "cd");
    assert.deepEqual(
      [dup.code, dup.stderr],
      [1, 'error: failed to create deployment: deployments.apps "kl-cd" already exists\n'],
    );
  });

  test("get events --sort-by, get events in time order, and kubeling events as kubectl events", async () => {
    const base = Date.now() - 25 * 3600_000; // a day ago: ages print as "25h" for a while
    const event = (name: string, object: string, minutes: number, type = "Normal") => ({
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace: NS },
      involvedObject: { kind: "Pod", namespace: NS, name: object, apiVersion: "v1" },
      reason: type === "Normal" ? "Started" : "BackOff",
      message: `${name} happened`,
      type,
      source: { component: "kubelet" },
      firstTimestamp: metaTime(base + minutes * 60_000),
      lastTimestamp: metaTime(base + minutes * 60_000),
      count: 1,
    });
    // Names in the reverse of time order.
    await server.client.create(EVENTS, NS, event("ev-c", "evpod-a", 1));
    await server.client.create(EVENTS, NS, event("ev-b", "evpod-b", 2, "Warning"));
    await server.client.create(EVENTS, NS, event("ev-a", "evpod-a", 3));
    const order = (out: string) =>
      out
        .split("\n")
        .map((l) => /(ev-[abc]) happened/.exec(l)?.[1])
        .filter((x) => x !== undefined);
    const sorted = await same(["get", "events", "--sort-by=.lastTimestamp"], "none");
    assert.deepEqual(order(sorted.stdout), ["ev-c", "ev-b", "ev-a"]);
    const byName = await same(["get", "events", "--sort-by={.metadata.name}"], "none");
    assert.deepEqual(order(byName.stdout), ["ev-a", "ev-b", "ev-c"]);
    const plain = await runCli([...kc, "get", "events"]);
    assert.deepEqual(order(plain.stdout), ["ev-c", "ev-b", "ev-a"], "kubeling get events: oldest first");
    const events = await same(["events"], "none");
    assert.deepEqual(order(events.stdout), ["ev-c", "ev-b", "ev-a"]);
    assert.match(events.stdout, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE\n/);
    const forPod = await same(["events", "--for", "pod/evpod-a"], "none");
    assert.deepEqual(order(forPod.stdout), ["ev-c", "ev-a"]);
    const warnings = await same(["events", "--types=Warning"], "none");
    assert.deepEqual(order(warnings.stdout), ["ev-b"]);
  });

  test("describe deployment: OldReplicaSets, NewReplicaSet and Events as kubectl prints them", async () => {
    for (const p of ["kc", "kl"]) {
      await withHistory(`${p}-desc`);
      // Revision 1 still has a pod asked for: an old ReplicaSet.
      await server.client.patch(REPLICASETS, NS, `${p}-desc-h1`, { spec: { replicas: 1 } }, "merge");
      const d = await server.client.get(DEPLOYMENTS, NS, `${p}-desc`);
      await server.client.create(EVENTS, NS, {
        apiVersion: "v1",
        kind: "Event",
        metadata: { name: `${p}-desc.1`, namespace: NS },
        involvedObject: {
          kind: "Deployment",
          namespace: NS,
          name: `${p}-desc`,
          uid: d.metadata.uid,
          apiVersion: "apps/v1",
        },
        reason: "ScalingReplicaSet",
        message: `Scaled up replica set ${p}-desc-h2 from 0 to 2`,
        type: "Normal",
        source: { component: "deployment-controller" },
        firstTimestamp: metaTime(Date.now() - 25 * 3600_000),
        lastTimestamp: metaTime(Date.now() - 25 * 3600_000),
        count: 1,
      });
    }
    const r = await both(["describe", "deployment", "NAME"], "desc");
    const lines = (s: string) => s.split("\n").filter((l) => !l.startsWith("CreationTimestamp:"));
    assert.deepEqual(lines(r.kubeling.stdout), lines(r.kubectl.stdout));
    assert.match(
      r.kubeling.stdout,
      /\nOldReplicaSets:\s+kl-desc-h1 \(0\/1 replicas created\)\nNewReplicaSet:\s+kl-desc-h2 \(0\/2 replicas created\)\n/,
    );
    assert.match(
      r.kubeling.stdout,
      /\n {2}Normal\s+ScalingReplicaSet\s+25h\s+deployment-controller\s+Scaled up replica set kl-desc-h2 from 0 to 2\n$/,
    );
  });
});
