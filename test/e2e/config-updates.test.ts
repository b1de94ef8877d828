// Configuration that changes (issue 10), on real Docker in a Node,RBAC cluster (the kubelet reads
// ConfigMaps and Secrets as system:node:node-1 through the node authorizer): objects made by the
// real kubectl's generators (create configmap --from-literal|--from-env-file, create secret
// generic --from-file) reach a running pod as files and environment variables; replacing them
// (`kubectl create ... --dry-run=client -o yaml | kubectl replace -f -`) changes the mounted files
// within 60 s with no container restarted, through the ..data swap, so a reader looping over a
// 64 KiB file only ever sees the old or the new content whole; a subPath mount and the
// environment keep what the container started with, as upstream's; an immutable ConfigMap
// refuses an edit with 422.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { BUSYBOX_IMAGE } from "../harness/images.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { clusterContainers, execIn, waitPod } from "../harness/kubelet.js";
import { waitFor } from "../harness/wait.js";

const NS = "default";
const BIG_OLD = "a".repeat(64 * 1024);
const BIG_NEW = "b".repeat(64 * 1024);
const md5 = (s: string) => createHash("md5").update(s).digest("hex");

describe("ConfigMap and Secret volumes follow their objects in a running pod", () => {
  let c: TestCluster;
  let kubectl: Kubectl;
  let dir: string;
  let containerId: string;
  let started: Pod;

  const read = async (path: string) => {
    const r = await execIn(containerId, ["cat", path]);
    assert.equal(r.code, 0, `cat ${path}: ${r.out}`);
    return r.out;
  };

  /** kubectl's idiom for changing a generated object: generate it again and replace. */
  const regenerate = async (args: string[]) => {
    const yaml = await kubectl.ok([...args, "--dry-run=client", "-o", "yaml"]);
    await kubectl.ok(["replace", "-f", "-"], { input: yaml });
  };

  before(async () => {
    c = await startCluster({ nodes: ["node-1"] });
    kubectl = kubectlFor(c.kubeconfigPath);
    dir = mkdtempSync(join(tmpdir(), "kubeling-config-updates-"));
    writeFileSync(join(dir, "app.env"), "MODE=production\nWORKERS=4\n");
    writeFileSync(join(dir, "password"), "hunter2");
    writeFileSync(join(dir, "big-old"), BIG_OLD);
    writeFileSync(join(dir, "big-new"), BIG_NEW);

    await kubectl.ok([
      "create",
      "configmap",
      "live",
      "--from-literal=greeting=hello",
      `--from-file=big=${join(dir, "big-old")}`,
    ]);
    await kubectl.ok(["create", "configmap", "env", `--from-env-file=${join(dir, "app.env")}`]);
    assert.equal(
      await kubectl.ok(["create", "secret", "generic", "creds", `--from-file=password=${join(dir, "password")}`]),
      "secret/creds created\n",
    );
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "reader", namespace: NS },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "c",
            image: BUSYBOX_IMAGE,
            imagePullPolicy: "IfNotPresent",
            // Every 20 ms, the checksum of the whole 64 KiB file as the container reads it.
            command: ["sh", "-c", "while true; do md5sum /etc/config/big >> /tmp/sums; usleep 20000; done"],
            envFrom: [{ configMapRef: { name: "env" } }],
            env: [{ name: "PASSWORD", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } }],
            volumeMounts: [
              { name: "config", mountPath: "/etc/config" },
              { name: "config", mountPath: "/etc/greeting", subPath: "greeting" },
              { name: "creds", mountPath: "/etc/creds", readOnly: true },
            ],
          },
        ],
        volumes: [
          { name: "config", configMap: { name: "live" } },
          { name: "creds", secret: { secretName: "creds" } },
        ],
      },
    };
    await c.client.create(PODS, NS, pod);
    started = await waitPod(c.client, NS, "reader", (p) => p.status?.containerStatuses?.[0]?.ready === true, {
      timeoutMs: 90_000,
      message: `pod reader ready\n${c.logs()}`,
    });
    const found = (await clusterContainers(c.clusterName, "node-1")).find(
      (x) => x.Labels["io.kubernetes.pod.name"] === "reader" && x.Labels["io.kubernetes.container.name"] === "c",
    );
    assert.ok(found, "the pod's container");
    containerId = found.Id;
  });

  after(async () => {
    kubectl?.close();
    await c?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("kubectl's generated objects reach the pod: files, envFrom and a secretKeyRef", async () => {
    assert.equal(await read("/etc/config/greeting"), "hello");
    assert.equal(await read("/etc/greeting"), "hello");
    assert.equal(await read("/etc/creds/password"), "hunter2");
    const env = (await execIn(containerId, ["env"])).out;
    assert.match(env, /^MODE=production$/m);
    assert.match(env, /^WORKERS=4$/m);
    assert.match(env, /^PASSWORD=hunter2$/m);
    // upstream's atomic-writer layout: keys are symlinks into ..data, itself a link to a timestamped dir.
    const ls = (await execIn(containerId, ["ls", "-la", "/etc/config/"])).out;
    assert.match(ls, /greeting -> \.\.data\/greeting/);
    assert.match(ls, /\.\.data -> \.\.\d{4}_/);
  });

  test("replacing the ConfigMap and the Secret changes the files within 60 s; no restart, subPath and env unchanged", async () => {
    const t0 = Date.now();
    await regenerate([
      "create",
      "configmap",
      "live",
      "--from-literal=greeting=bonjour",
      `--from-file=big=${join(dir, "big-new")}`,
    ]);
    writeFileSync(join(dir, "password"), "correct-horse");
    await regenerate(["create", "secret", "generic", "creds", `--from-file=password=${join(dir, "password")}`]);
    await waitFor(async () => (await read("/etc/config/greeting")) === "bonjour", {
      timeoutMs: 60_000,
      intervalMs: 250,
      message: `the mounted ConfigMap follows the edit\n${c.logs()}`,
    });
    await waitFor(async () => (await read("/etc/creds/password")) === "correct-horse", {
      timeoutMs: 60_000 - (Date.now() - t0),
      intervalMs: 250,
      message: "the mounted Secret follows the edit",
    });
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(seconds < 60, `updated after ${seconds} s`);
    assert.equal(await read("/etc/config/big"), BIG_NEW);

    // The reader saw each version whole: only the two checksums, the new one last.
    await waitFor(async () => (await read("/tmp/sums")).trim().split("\n").at(-1)?.startsWith(md5(BIG_NEW)), {
      timeoutMs: 5000,
      message: "the reader loop sees the new file",
    });
    const sums = new Set(
      (await read("/tmp/sums"))
        .trim()
        .split("\n")
        .map((l) => l.slice(0, 32)),
    );
    assert.deepEqual([...sums].sort(), [md5(BIG_OLD), md5(BIG_NEW)].sort(), "no torn read");

    // subPath mounts and environment variables keep what the container started with (upstream).
    assert.equal(await read("/etc/greeting"), "hello");
    assert.match((await execIn(containerId, ["env"])).out, /^PASSWORD=hunter2$/m);

    const now = await c.client.get<Pod>(PODS, NS, "reader");
    const [before, after] = [started, now].map((p) => p.status?.containerStatuses?.[0]);
    assert.equal(after?.restartCount, before?.restartCount, "no restart");
    assert.equal(after?.containerID, before?.containerID, "the same container");
    assert.equal(after?.containerID, `docker://${containerId}`);
  });

  test("an immutable ConfigMap refuses an edit with 422", async () => {
    await kubectl.ok(["create", "configmap", "frozen", "--from-literal=k=v1"]);
    await kubectl.ok(["patch", "configmap", "frozen", "--type=merge", "-p", '{"immutable":true}']);
    const r = await kubectl.run(["patch", "configmap", "frozen", "--type=merge", "-p", '{"data":{"k":"v2"}}', "-v=6"]);
    assert.equal(r.code, 1);
    // kubectl 1.33 logs requests as structured key=value pairs (1.31: "PATCH <url> 422 ...").
    assert.match(
      r.stderr,
      /verb="PATCH" url="https:\/\/\S+\/api\/v1\/namespaces\/default\/configmaps\/frozen\S*" status="422 Unprocessable Entity"/,
    );
    assert.match(
      r.stderr,
      /The ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set/,
    );
  });
});
