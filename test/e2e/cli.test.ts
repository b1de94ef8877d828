// The kubeling CLI as a real child process against a real kubeling-apiserver (real etcd),
// through the kubeconfig the harness writes.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isNotFound } from "#pkg/api/errors.js";
import { DEPLOYMENTS, EVENTS, PODS, REPLICASETS, REPLICATIONCONTROLLERS } from "#pkg/api/resources.js";
import { loadKubeconfig, writeKubeconfig } from "#pkg/client/kubeconfig.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { freePort } from "../harness/ports.js";
import { waitFor } from "../harness/wait.js";
import { runCli, spawnCli, stopCli } from "./cli-helpers.js";

const DEPLOYMENT = (replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: busybox
        command: ["sleep", "3600"]
        ports:
        - containerPort: 80
`;

describe("kubeling CLI against a real API server", () => {
  let server: TestApiServer;
  let dir: string;
  let kc: string[];

  before(async () => {
    server = await startApiServer();
    dir = await mkdtemp(join(tmpdir(), "kubeling-cli-e2e-"));
    kc = ["--kubeconfig", server.kubeconfigPath];
  });

  after(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("get ns prints a kubectl-style table", async () => {
    const r = await runCli([...kc, "get", "ns"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^NAME {3,}/);
    assert.ok(
      lines.some((l) => l.startsWith("default ")),
      r.stdout,
    );
    assert.ok(
      lines.some((l) => l.startsWith("kube-system ")),
      r.stdout,
    );
  });

  test("apply -f: created, then unchanged, then configured", async () => {
    const file = join(dir, "web.yaml");
    await writeFile(file, DEPLOYMENT(2));
    let r = await runCli([...kc, "apply", "-f", file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "deployment.apps/web created\n");
    r = await runCli([...kc, "apply", "-f", file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "deployment.apps/web unchanged\n");
    await writeFile(file, DEPLOYMENT(3));
    r = await runCli([...kc, "apply", "-f", file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "deployment.apps/web configured\n");
    const live = await server.client.get(DEPLOYMENTS, "default", "web");
    assert.equal(live.spec?.replicas, 3);
  });

  test("get deploy -o yaml|json|name", async () => {
    let r = await runCli([...kc, "get", "deploy", "web", "-o", "yaml"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^apiVersion: apps\/v1\nkind: Deployment\nmetadata:\n/);
    assert.match(r.stdout, /\n {2}replicas: 3\n/);
    assert.match(r.stdout, /kubectl\.kubernetes\.io\/last-applied-configuration/);
    assert.doesNotMatch(r.stdout, /managedFields/);
    r = await runCli([...kc, "get", "deployments.apps", "-o", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as { kind: string; items: Array<{ kind: string; metadata: { name: string } }> };
    assert.equal(list.kind, "List");
    assert.deepEqual(
      list.items.map((i) => `${i.kind}/${i.metadata.name}`),
      ["Deployment/web"],
    );
    r = await runCli([...kc, "get", "deploy", "-o", "name"]);
    assert.equal(r.stdout, "deployment.apps/web\n");
  });

  test("get pods -w prints the table, then a row per change", async () => {
    await server.client.create(PODS, "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "first" },
      spec: { containers: [{ name: "c", image: "busybox" }] },
    });
    const child = spawnCli([...kc, "get", "pods", "-w"]);
    try {
      await waitFor(() => /^NAME .*\nfirst /m.test(child.out()), { timeoutMs: 30_000, message: "the initial table" });
      await server.client.create(PODS, "default", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "second" },
        spec: { containers: [{ name: "c", image: "busybox" }] },
      });
      await waitFor(() => /\nsecond /.test(child.out()), { timeoutMs: 15_000, message: "a row for the new pod" });
      await server.client.delete(PODS, "default", "first", { gracePeriodSeconds: 0 });
      await waitFor(
        () =>
          child
            .out()
            .split("\n")
            .filter((l) => l.startsWith("first ")).length >= 2,
        {
          timeoutMs: 15_000,
          message: "a row for the deleted pod",
        },
      );
      assert.equal(child.out().match(/^NAME /gm)?.length, 1, "the header is printed once");
    } finally {
      await stopCli(child);
    }
  });

  test("describe deployment and pod", async () => {
    let r = await runCli([...kc, "describe", "deployment", "web"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Name:\s+web\nNamespace:\s+default\n/);
    assert.match(r.stdout, /\nReplicas:\s+3 desired \| /);
    assert.match(r.stdout, /\nPod Template:\n {2}Labels:\s+app=web\n {2}Containers:\n {3}web:\n {4}Image:\s+busybox\n/);
    assert.match(r.stdout, /\nEvents:\s+<none>\n$/);
    const second = await server.client.get(PODS, "default", "second");
    const now = new Date().toISOString();
    await server.client.create(EVENTS, "default", {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name: "second.1" },
      involvedObject: { kind: "Pod", namespace: "default", name: "second", uid: second.metadata.uid, apiVersion: "v1" },
      reason: "Scheduled",
      message: "Successfully assigned default/second to nowhere",
      type: "Normal",
      source: { component: "default-scheduler" },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
    r = await runCli([...kc, "describe", "pod/second"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /\nEvents:\n {2}Type\s+Reason\s+Age\s+From\s+Message\n {2}----\s+------\s+----\s+----\s+-------\n {2}Normal\s+Scheduled\s+\d+s\s+default-scheduler\s+Successfully assigned default\/second to nowhere\n$/,
    );
    assert.match(r.stdout, /^Name:\s+second\n/);
    assert.match(r.stdout, /\nContainers:\n {2}c:\n {4}Image:\s+busybox\n/);
  });

  test("delete prints each object and waits until it is gone", async () => {
    let r = await runCli([...kc, "delete", "pod", "second"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'pod "second" deleted\n');
    await assert.rejects(server.client.get(PODS, "default", "second"), (e: unknown) => isNotFound(e));
    r = await runCli([...kc, "delete", "-f", join(dir, "web.yaml")]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'deployment.apps "web" deleted\n');
    r = await runCli([...kc, "get", "deploy"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "No resources found in default namespace.\n");
  });

  test("create -f, apply --server-side, get all, delete -l", async () => {
    const file = join(dir, "objs.yaml");
    await writeFile(
      file,
      [
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n  labels: {set: a}\ndata: {k: v}\n",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: two\n    labels: {set: a}\n",
      ].join("---\n"),
    );
    let r = await runCli([...kc, "create", "-f", file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "configmap/one created\nconfigmap/two created\n");
    r = await runCli([...kc, "create", "-f", file]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `Error from server (AlreadyExists): error when creating "${file}": configmaps "one" already exists\n` +
        `Error from server (AlreadyExists): error when creating "${file}": configmaps "two" already exists\n`,
    );
    const ssa = join(dir, "ssa.yaml");
    await writeFile(
      ssa,
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: three\n  labels: {set: a}\ndata: {x: y}\n",
    );
    r = await runCli([...kc, "apply", "--server-side", "-f", ssa]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "configmap/three serverside-applied\n");
    r = await runCli([...kc, "get", "cm", "-l", "set=a", "-o", "name"]);
    assert.deepEqual(r.stdout.trim().split("\n").sort(), ["configmap/one", "configmap/three", "configmap/two"]);
    await server.client.create(PODS, "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "third" },
      spec: { containers: [{ name: "c", image: "busybox" }] },
    });
    r = await runCli([...kc, "get", "all"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\npod\/third\s/m);
    r = await runCli([...kc, "delete", "cm", "-l", "set=a"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").sort(), [
      'configmap "one" deleted',
      'configmap "three" deleted',
      'configmap "two" deleted',
    ]);
  });

  test("create deployment, scale, label, expose, run; -o jsonpath and custom-columns", async () => {
    let r = await runCli([...kc, "create", "deployment", "imp", "--image=busybox:1.36", "--replicas=1", "--port=80"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "deployment.apps/imp created\n");
    r = await runCli([...kc, "scale", "deployment/imp", "--replicas=4"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "deployment.apps/imp scaled\n");
    r = await runCli([...kc, "label", "deploy", "imp", "tier=web"]);
    assert.equal(r.stdout, "deployment.apps/imp labeled\n");
    r = await runCli([
      ...kc,
      "get",
      "deploy",
      "imp",
      "-o",
      "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].name} {.metadata.labels.tier}",
    ]);
    assert.equal(r.stdout, "4 busybox web");
    r = await runCli([...kc, "expose", "deployment", "imp", "--target-port=8080"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "service/imp exposed\n");
    r = await runCli([
      ...kc,
      "get",
      "svc",
      "imp",
      "-o",
      "custom-columns=NAME:.metadata.name,PORT:.spec.ports[*].port,SEL:.spec.selector.app",
    ]);
    assert.match(r.stdout, /^NAME\s+PORT\s+SEL\nimp\s+80\s+imp\n$/);
    r = await runCli([...kc, "run", "one-off", "--image=busybox", "--restart=Never", "--", "echo", "hi"]);
    assert.equal(r.stdout, "pod/one-off created\n");
    const pod = await server.client.get(PODS, "default", "one-off");
    assert.equal(pod.spec?.restartPolicy, "Never");
    assert.deepEqual(pod.spec?.containers[0]?.args, ["echo", "hi"]);
    r = await runCli([...kc, "create", "deployment", "dry", "--image=nginx:1.25", "--dry-run=client", "-o", "yaml"]);
    assert.equal(r.code, 0, r.stderr);
    // Exactly what kubectl 1.31 prints for it.
    assert.equal(
      r.stdout,
      [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata:",
        "  creationTimestamp: null",
        "  labels:",
        "    app: dry",
        "  name: dry",
        "spec:",
        "  replicas: 1",
        "  selector:",
        "    matchLabels:",
        "      app: dry",
        "  strategy: {}",
        "  template:",
        "    metadata:",
        "      creationTimestamp: null",
        "      labels:",
        "        app: dry",
        "    spec:",
        "      containers:",
        "      - image: nginx:1.25",
        "        name: nginx",
        "        resources: {}",
        "status: {}",
        "",
      ].join("\n"),
    );
    r = await runCli([...kc, "create", "deployment", "dry", "--image=nginx", "--dry-run=server"]);
    assert.equal(r.stdout, "deployment.apps/dry created (server dry run)\n");
    await assert.rejects(server.client.get(DEPLOYMENTS, "default", "dry"), (e: unknown) => isNotFound(e));
  });

  test("patch, annotate, rollout history and undo (ReplicaSets made by hand: no controller here)", async () => {
    let r = await runCli([...kc, "create", "deployment", "hist", "--image=img:b"]);
    assert.equal(r.code, 0, r.stderr);
    const d = await server.client.get(DEPLOYMENTS, "default", "hist");
    for (const [rev, image] of [
      ["1", "img:a"],
      ["2", "img:b"],
    ] as const) {
      const labels = { app: "hist", "pod-template-hash": `h${rev}` };
      await server.client.create(REPLICASETS, "default", {
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        metadata: {
          name: `hist-${rev}`,
          labels,
          annotations: { "deployment.kubernetes.io/revision": rev, "kubernetes.io/change-cause": `image ${image}` },
          ownerReferences: [
            { apiVersion: "apps/v1", kind: "Deployment", name: "hist", uid: d.metadata.uid, controller: true },
          ],
        },
        spec: {
          replicas: 0,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: "img", image }] } },
        },
      });
    }
    r = await runCli([...kc, "annotate", "deploy", "hist", "deployment.kubernetes.io/revision=2"]);
    assert.equal(r.stdout, "deployment.apps/hist annotated\n");
    r = await runCli([...kc, "rollout", "history", "deployment/hist"]);
    assert.equal(
      r.stdout,
      "deployment.apps/hist \nREVISION  CHANGE-CAUSE\n1         image img:a\n2         image img:b\n\n",
    );
    r = await runCli([...kc, "rollout", "undo", "deployment/hist"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "deployment.apps/hist rolled back\n");
    r = await runCli([...kc, "patch", "deploy", "hist", "--type=merge", "-p", '{"spec":{"replicas":5}}']);
    assert.equal(r.stdout, "deployment.apps/hist patched\n");
    const after = await server.client.get(DEPLOYMENTS, "default", "hist");
    assert.equal(after.spec?.template.spec?.containers[0]?.image, "img:a");
    assert.equal(after.spec?.replicas, 5);
  });

  test("replicationcontrollers: create -f, get rc (-o wide), scale rc/NAME, describe rc", async () => {
    const file = join(dir, "rc.yaml");
    await writeFile(
      file,
      "apiVersion: v1\nkind: ReplicationController\nmetadata:\n  name: legacy\nspec:\n  replicas: 2\n  template:\n    metadata:\n      labels: {app: legacy}\n    spec:\n      containers:\n      - {name: c, image: busybox}\n",
    );
    let r = await runCli([...kc, "create", "-f", file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "replicationcontroller/legacy created\n");
    r = await runCli([...kc, "get", "rc"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\nlegacy\s+2\s+0\s+0\s+\d+s\n$/);
    r = await runCli([...kc, "get", "replicationcontrollers", "legacy", "-o", "wide"]);
    assert.match(
      r.stdout,
      /^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\nlegacy\s+2\s+0\s+0\s+\d+s\s+c\s+busybox\s+app=legacy\n$/,
    );
    r = await runCli([...kc, "scale", "rc/legacy", "--replicas=5"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "replicationcontroller/legacy scaled\n");
    assert.equal((await server.client.get(REPLICATIONCONTROLLERS, "default", "legacy")).spec?.replicas, 5);
    r = await runCli([...kc, "describe", "rc", "legacy"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^Name:\s+legacy\nNamespace:\s+default\nSelector:\s+app=legacy\nLabels:\s+app=legacy\nAnnotations:\s+<none>\nReplicas:\s+0 current \/ 5 desired\nPods Status:\s+0 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed\nPod Template:\n/,
    );
    assert.match(r.stdout, /\nEvents:\s+<none>\n$/);
    r = await runCli([...kc, "delete", "rc", "legacy"]);
    assert.equal(r.stdout, 'replicationcontroller "legacy" deleted\n');
  });

  test("api-resources comes from the server's discovery", async () => {
    const r = await runCli([...kc, "api-resources"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND\n/);
    assert.match(r.stdout, /\npods\s+po\s+v1\s+true\s+Pod\n/);
    assert.match(r.stdout, /\ndeployments\s+deploy\s+apps\/v1\s+true\s+Deployment\n/);
    assert.match(r.stdout, /\nnamespaces\s+ns\s+v1\s+false\s+Namespace\n/);
  });

  test("version shows client and server", async () => {
    const r = await runCli([...kc, "version"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Client Version: v1\.\d+\.\d+.*\nServer Version: v1\.\d+\.\d+/);
  });

  test("errors: NotFound, unknown type, bad manifest", async () => {
    let r = await runCli([...kc, "get", "pod", "nope"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error from server (NotFound): pods "nope" not found\n');
    r = await runCli([...kc, "get", "foo"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: the server doesn\'t have a resource type "foo"\n');
    const bad = join(dir, "bad.yaml");
    await writeFile(bad, "apiVersion: v1\nkind: [oops\n");
    r = await runCli([...kc, "apply", "-f", bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`^error: error parsing ${bad.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: .+\n$`));
  });

  test("errors: a bad token and a server that does not answer", async () => {
    const original = await readFile(server.kubeconfigPath, "utf8");
    const badToken = join(dir, "bad-token.kubeconfig");
    writeKubeconfig(badToken, { server: server.url, caPem: server.caPem, token: "not-the-token" });
    let r = await runCli(["--kubeconfig", badToken, "get", "pods"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "error: You must be logged in to the server (Unauthorized)\n");

    const port = await freePort();
    const dead = join(dir, "dead.kubeconfig");
    await writeFile(dead, original.replace(/server: .*/, `server: https://127.0.0.1:${port}`));
    r = await runCli(["--kubeconfig", dead, "get", "pods"]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `Unable to connect to the server: dial tcp 127.0.0.1:${port}: connect: connection refused\n`,
    );
  });

  test("config current-context / get-contexts / use-context / view", async () => {
    const copy = join(dir, "config.kubeconfig");
    await writeFile(copy, await readFile(server.kubeconfigPath, "utf8"));
    const cfg = ["--kubeconfig", copy];
    const current = (await runCli([...cfg, "config", "current-context"])).stdout.trim();
    assert.ok(current.length > 0);
    let r = await runCli([...cfg, "config", "get-contexts"]);
    assert.match(r.stdout, new RegExp(`^CURRENT\\s+NAME\\s+CLUSTER\\s+AUTHINFO\\s+NAMESPACE\\n\\*\\s+${current}\\s`));
    r = await runCli([...cfg, "config", "view"]);
    assert.match(r.stdout, /client-certificate-data: DATA\+OMITTED/);
    assert.match(r.stdout, /client-key-data: DATA\+OMITTED/);
    assert.match(r.stdout, /certificate-authority-data: DATA\+OMITTED/);
    const key = loadKubeconfig({ path: copy }).keyPem as string;
    assert.ok(!r.stdout.includes(Buffer.from(key).toString("base64")), "the key is not printed");
    const withToken = join(dir, "token.kubeconfig");
    writeKubeconfig(withToken, { server: server.url, caPem: server.caPem, token: server.token });
    r = await runCli(["--kubeconfig", withToken, "config", "view"]);
    assert.match(r.stdout, /token: REDACTED/);
    assert.doesNotMatch(r.stdout, new RegExp(server.token));
    r = await runCli([...cfg, "config", "use-context", "nope"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: no context exists with the name: "nope"\n');
    r = await runCli([...cfg, "config", "use-context", current]);
    assert.equal(r.stdout, `Switched to context "${current}".\n`);
  });
});
