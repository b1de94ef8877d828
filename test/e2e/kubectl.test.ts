// The real kubectl (/usr/bin/kubectl, the gcloud dispatcher; kubeling reports 1.33, so
// kubectl 1.33 runs) against a real kubeling-apiserver and etcd. Each test runs kubectl as a
// child process with the harness's kubeconfig and a temporary HOME and --cache-dir, so
// discovery caching never leaks between runs.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { text } from "node:stream/consumers";
import { after, before, test } from "node:test";
import { DEPLOYMENTS, PODS } from "#pkg/api/resources.js";
import type { Deployment } from "#pkg/api/types/index.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { waitFor } from "../harness/wait.js";
import { collectOutput } from "./cli-helpers.js";

const KUBECTL = process.env.KUBECTL ?? "/usr/bin/kubectl";
let srv: TestApiServer;
let home: string;
const children = new Set<ChildProcess>();

function nginxDeployment(image: string): string {
  // The Deployment from https://kubernetes.io/docs/concepts/workloads/controllers/deployment/
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
spec:
  replicas: 3
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: ${image}
        ports:
        - containerPort: 80
`;
}

function env(): NodeJS.ProcessEnv {
  return { ...process.env, KUBECONFIG: srv.kubeconfigPath, HOME: home, KUBECACHEDIR: join(home, "cache") };
}

function start(args: string[]): ChildProcess {
  const child = spawn(KUBECTL, [`--cache-dir=${join(home, "cache")}`, ...args], {
    env: env(),
    stdio: ["pipe", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

async function kubectl(args: string[], o: { input?: string; timeoutMs?: number } = {}) {
  const child = collectOutput(start(args));
  child.stdin?.end(o.input ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 30_000);
  const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout: child.out(), stderr: child.err() };
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input === undefined ? {} : { input });
  assert.equal(r.code, 0, `kubectl ${args.join(" ")} failed:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** openWatches reads the server's open-watch gauge from /metrics. */
async function openWatches(): Promise<number> {
  const res = await srv.client.request("GET", "/metrics");
  const body = await text(res.body);
  const m = /apiserver_longrunning_requests\{verb="WATCH"\} (\d+)/.exec(body);
  assert.ok(m, "metrics expose the open watch count");
  return Number(m[1]);
}

/** Splits human output into rows of whitespace-separated cells. */
function table(out: string): string[][] {
  return out
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s{2,}/));
}

before(async () => {
  assert.ok(existsSync(KUBECTL), `kubectl not found at ${KUBECTL}`);
  home = await mkdtemp(join(tmpdir(), "kubeling-kubectl-"));
  srv = await startApiServer();
});

after(async () => {
  for (const c of children) c.kill("SIGKILL");
  await srv?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

test("kubectl version reports the kubeling server", async () => {
  const out = await ok(["version", "-o", "json"]);
  const v = JSON.parse(out);
  assert.equal(v.serverVersion.minor, "33");
  assert.equal(v.serverVersion.gitVersion, "v1.33.0+kubeling.0.1.0");
  assert.equal(v.clientVersion.minor, "33", "the dispatcher picked kubectl 1.33");
});

test("kubectl get ns shows upstream columns", async () => {
  const rows = table(await ok(["get", "ns"]));
  assert.deepEqual(rows[0], ["NAME", "STATUS", "AGE"]);
  const names = rows.slice(1).map((r) => r[0]);
  assert.ok(names.includes("default"), names.join(","));
  assert.equal(rows.find((r) => r[0] === "default")?.[1], "Active");
});

test("kubectl apply -f: created, unchanged, configured", async () => {
  const file = join(home, "nginx.yaml");
  await writeFile(file, nginxDeployment("nginx:1.14.2"));
  assert.match(await ok(["apply", "-f", file]), /^deployment\.apps\/nginx-deployment created$/m);
  assert.match(await ok(["apply", "-f", file]), /^deployment\.apps\/nginx-deployment unchanged$/m);
  await writeFile(file, nginxDeployment("nginx:1.16.1"));
  assert.match(await ok(["apply", "-f", file]), /^deployment\.apps\/nginx-deployment configured$/m);
  const d = await srv.client.get<Deployment>(DEPLOYMENTS, "default", "nginx-deployment");
  assert.equal(d.spec?.template.spec?.containers[0]?.image, "nginx:1.16.1");
  assert.equal(d.spec?.replicas, 3);
  assert.equal(d.metadata.generation, 2);
});

test("kubectl apply -f - from stdin", async () => {
  const out = await ok(["apply", "-f", "-"], nginxDeployment("nginx:1.16.1"));
  assert.match(out, /^deployment\.apps\/nginx-deployment unchanged$/m);
});

test("kubectl get deploy -o yaml", async () => {
  const out = await ok(["get", "deploy", "-o", "yaml"]);
  assert.match(out, /^kind: List$/m);
  assert.match(out, /^ {2}kind: Deployment$/m);
  assert.match(out, /^ {4}name: nginx-deployment$/m);
  assert.match(out, /^ {4}replicas: 3$/m);
  assert.match(out, /image: nginx:1\.16\.1/);
});

test("kubectl get deploy shows upstream columns", async () => {
  const rows = table(await ok(["get", "deploy"]));
  assert.deepEqual(rows[0], ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
  assert.equal(rows[1]?.[0], "nginx-deployment");
  const wide = table(await ok(["get", "deploy", "-o", "wide"]));
  assert.deepEqual(wide[0], ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]);
  assert.equal(wide[1]?.[6], "nginx:1.16.1");
});

test("kubectl scale", async () => {
  assert.match(
    await ok(["scale", "deployment/nginx-deployment", "--replicas=5"]),
    /deployment\.apps\/nginx-deployment scaled/,
  );
  const d = await srv.client.get<Deployment>(DEPLOYMENTS, "default", "nginx-deployment");
  assert.equal(d.spec?.replicas, 5);
  // --current-replicas: GET /scale, then PUT /scale with no Content-Type.
  assert.match(
    await ok(["scale", "deployment/nginx-deployment", "--current-replicas=5", "--replicas=2"]),
    /deployment\.apps\/nginx-deployment scaled/,
  );
  const d2 = await srv.client.get<Deployment>(DEPLOYMENTS, "default", "nginx-deployment");
  assert.equal(d2.spec?.replicas, 2);
});

test("kubectl and ReplicationControllers: apply, get rc (-o wide), scale, describe, invalid", async () => {
  const rc = (selector: string) => `apiVersion: v1
kind: ReplicationController
metadata:
  name: nginx
spec:
  replicas: 3
  selector:
    app: ${selector}
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:1.16.1
`;
  assert.match(await ok(["apply", "-f", "-"], rc("nginx")), /^replicationcontroller\/nginx created$/m);
  assert.match(await ok(["apply", "-f", "-"], rc("nginx")), /^replicationcontroller\/nginx unchanged$/m);
  const rows = table(await ok(["get", "rc"]));
  assert.deepEqual(rows[0], ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]);
  assert.deepEqual(rows[1]?.slice(0, 4), ["nginx", "3", "0", "0"]);
  const wide = table(await ok(["get", "replicationcontrollers", "-o", "wide"]));
  assert.deepEqual(wide[0], ["NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"]);
  assert.deepEqual(wide[1]?.slice(5), ["nginx", "nginx:1.16.1", "app=nginx"]);
  assert.match(await ok(["scale", "rc/nginx", "--replicas=1"]), /^replicationcontroller\/nginx scaled$/m);
  assert.match(
    await ok(["scale", "rc", "nginx", "--current-replicas=1", "--replicas=2"]),
    /^replicationcontroller\/nginx scaled$/m,
  );
  const described = await ok(["describe", "rc", "nginx"]);
  assert.match(described, /^Name:\s+nginx\nNamespace:\s+default\nSelector:\s+app=nginx\n/);
  assert.match(described, /\nReplicas:\s+0 current \/ 2 desired\n/);
  const bad = await kubectl(["apply", "-f", "-"], { input: rc("other").replace("name: nginx\n", "name: bad\n") });
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /^The ReplicationController "bad" is invalid: spec\.template\.metadata\.labels: Invalid value: \{"app":"nginx"\}: `selector` does not match template `labels`$/m,
  );
  assert.match(await ok(["delete", "rc", "nginx"]), /^replicationcontroller "nginx" deleted$/m);
});

test("kubectl get pods -w sees a change made by another client", async () => {
  const child = collectOutput(start(["get", "pods", "-w"]));
  child.stdin?.end();
  try {
    // kubectl lists, then opens its watch: wait until the server sees the watch open.
    await waitFor(async () => (await openWatches()) >= 1, {
      timeoutMs: 20_000,
      message: `kubectl get -w to open its watch; stderr: ${child.err()}`,
    });
    await srv.client.create(PODS, "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "watched-pod" },
      spec: { containers: [{ name: "c", image: "busybox" }] },
    });
    await waitFor(() => /^watched-pod\s+0\/1\s+Pending\s+0\s+\S+$/m.test(child.out()), {
      timeoutMs: 20_000,
      message: `kubectl get -w to print the new pod; stdout: ${child.out()}; stderr: ${child.err()}`,
    });
    assert.match(child.out(), /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
  } finally {
    child.kill("SIGTERM");
    await srv.client.delete(PODS, "default", "watched-pod", { gracePeriodSeconds: 0 }).catch(() => undefined);
  }
});

test("kubectl api-resources", async () => {
  const rows = table(await ok(["api-resources"]));
  assert.deepEqual(rows[0], ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]);
  const find = (name: string) => rows.find((r) => r[0] === name);
  assert.deepEqual(find("deployments"), ["deployments", "deploy", "apps/v1", "true", "Deployment"]);
  assert.deepEqual(find("pods"), ["pods", "po", "v1", "true", "Pod"]);
  assert.deepEqual(find("namespaces"), ["namespaces", "ns", "v1", "false", "Namespace"]);
});

test("kubectl apply --server-side, --dry-run=server, label, get all", async () => {
  const file = join(home, "cm.yaml");
  await writeFile(file, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: v\n");
  assert.match(await ok(["apply", "--server-side", "-f", file]), /^configmap\/ssa serverside-applied$/m);
  assert.match(await ok(["apply", "--server-side", "-f", file]), /^configmap\/ssa serverside-applied$/m);
  const dry = await ok(["create", "configmap", "dry", "--from-literal=a=b", "--dry-run=server"]);
  assert.match(dry, /configmap\/dry created \(server dry run\)/);
  const r = await kubectl(["get", "configmap", "dry"]);
  assert.equal(r.code, 1, "a server dry run stores nothing");
  assert.match(await ok(["label", "configmap", "ssa", "tier=web"]), /^configmap\/ssa labeled$/m);
  const rows = table(await ok(["get", "configmap", "-l", "tier=web"]));
  assert.deepEqual(rows[0], ["NAME", "DATA", "AGE"]);
  assert.equal(rows[1]?.[0], "ssa");
  assert.equal(rows[1]?.[1], "1");
  // `get all` expands the "all" category from discovery.
  const all = await ok(["get", "all"]);
  assert.match(all, /^deployment\.apps\/nginx-deployment\s/m);
  assert.match(await ok(["delete", "configmap", "ssa"]), /^configmap "ssa" deleted$/m);
});

test("kubectl wait returns at once on a condition already met (watch headers are flushed)", async () => {
  assert.match(await ok(["create", "configmap", "ready", "--from-literal=state=done"]), /configmap\/ready created/);
  const started = Date.now();
  const out = await ok(["wait", "--for=jsonpath={.data.state}=done", "configmap/ready", "--timeout=20s"]);
  assert.match(out, /^configmap\/ready condition met$/m);
  assert.ok(Date.now() - started < 15_000, "wait did not hang until its timeout");
  const r = await kubectl(["wait", "--for=jsonpath={.data.state}=never", "configmap/ready", "--timeout=2s"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /timed out waiting for the condition/);
  assert.match(await ok(["delete", "configmap", "ready"]), /^configmap "ready" deleted$/m);
});

test("kubectl 1.33 `create namespace` (a protobuf body) creates it", async () => {
  const k133 = join(dirname(realpathSync(KUBECTL)), "kubectl.1.33");
  assert.ok(existsSync(k133), `kubectl 1.33 not found at ${k133}`);
  const child = spawn(k133, [`--cache-dir=${join(home, "cache133")}`, "create", "namespace", "proto-ns"], {
    env: env(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^namespace\/proto-ns created$/m);
  assert.match(await ok(["get", "ns", "proto-ns", "-o", "name"]), /^namespace\/proto-ns$/m);
  assert.match(await ok(["delete", "ns", "proto-ns", "--wait=false"]), /namespace "proto-ns" deleted/);
});

test("kubectl delete", async () => {
  assert.match(
    await ok(["delete", "deployment", "nginx-deployment"]),
    /^deployment\.apps "nginx-deployment" deleted$/m,
  );
  const r = await kubectl(["get", "deployment", "nginx-deployment"]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Error from server \(NotFound\): deployments\.apps "nginx-deployment" not found/);
});
