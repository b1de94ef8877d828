// Kubelet pod volumes (emptyDir shared between containers, configMap with live updates, secret,
// kubernetes.io/tls Secrets from kubectl's and kubeling's `create secret tls`, downwardAPI, a
// missing ConfigMap holding the pod in ContainerCreating), cluster DNS settings
// and activeDeadlineSeconds, against a real API server and Docker.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CONFIGMAPS, EVENTS, PODS, SECRETS, SERVICES } from "#pkg/api/resources.js";
import type { Pod, Secret } from "#pkg/api/types/index.js";
import { newSelfSigned } from "#pkg/pki/certs.js";
import { runCli } from "../e2e/cli-helpers.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { BUSYBOX_IMAGE, ensureLocalImages } from "../harness/images.js";
import { kubectlFor } from "../harness/kubectl.js";
import {
  cleanupCluster,
  containerStatus as cs,
  docker,
  execIn,
  startKubelet,
  type TestKubelet,
  waitPodGone,
  waitPod as waitPodUntil,
} from "../harness/kubelet.js";
import { waitFor } from "../harness/wait.js";

/** The output of cmd in the container. */
const output = async (containerId: string, cmd: string[]) => (await execIn(containerId, cmd)).out;

describe("kubelet volumes, DNS and deadlines (real API server, real Docker)", () => {
  const cluster = `kl-vol-${randomUUID().slice(0, 8)}`;
  let api: TestApiServer;
  let kubelet: TestKubelet;

  const idOf = (p: Pod, name: string) => (cs(p, name)?.containerID ?? "").replace("docker://", "");
  const waitPod = (name: string, ok: (p: Pod) => boolean, message?: string) =>
    waitPodUntil(api.client, "default", name, ok, { message });

  before(async () => {
    await docker.ping();
    ensureLocalImages();
    api = await startApiServer();
    kubelet = await startKubelet({
      kubeconfigPath: api.kubeconfigPath,
      pki: api.pki,
      nodeName: "node-1",
      clusterName: cluster,
      extraArgs: ["--cluster-dns=10.96.0.10", "--cluster-domain=cluster.local"],
    });
  });

  after(async () => {
    await kubelet?.stop();
    await cleanupCluster(cluster);
    await api?.stop();
  });

  test("emptyDir shared by two containers; configMap, secret and downwardAPI files; ConfigMap updates reach the files", async () => {
    await api.client.create(CONFIGMAPS, "default", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cfg" },
      data: { "app.conf": "v=1\n", other: "x" },
    });
    await api.client.create(SECRETS, "default", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "sec" },
      data: { password: Buffer.from("s3cret").toString("base64") },
    });
    await api.client.create(PODS, "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "vols", namespace: "default", labels: { app: "vols" } },
      spec: {
        nodeName: "node-1",
        terminationGracePeriodSeconds: 2,
        volumes: [
          { name: "shared", emptyDir: {} },
          { name: "cfg", configMap: { name: "cfg" } },
          { name: "sec", secret: { secretName: "sec", defaultMode: 0o400 } },
          { name: "info", downwardAPI: { items: [{ path: "labels", fieldRef: { fieldPath: "metadata.labels" } }] } },
        ],
        containers: [
          {
            name: "writer",
            image: BUSYBOX_IMAGE,
            command: ["sh", "-c", "echo from-writer > /data/msg; sleep 3600"],
            volumeMounts: [{ name: "shared", mountPath: "/data" }],
          },
          {
            name: "reader",
            image: BUSYBOX_IMAGE,
            command: ["sleep", "3600"],
            volumeMounts: [
              { name: "shared", mountPath: "/shared" },
              { name: "cfg", mountPath: "/etc/cfg", readOnly: true },
              { name: "sec", mountPath: "/etc/sec", readOnly: true },
              { name: "info", mountPath: "/etc/info" },
            ],
          },
        ],
      },
    });
    const p = await waitPod("vols", (x) => x.status?.phase === "Running");
    const reader = idOf(p, "reader");
    await waitFor(async () => (await output(reader, ["cat", "/shared/msg"])) === "from-writer\n", {
      timeoutMs: 10_000,
      message: "emptyDir shared",
    });
    assert.equal(await output(reader, ["cat", "/etc/cfg/app.conf"]), "v=1\n");
    assert.equal(await output(reader, ["cat", "/etc/sec/password"]), "s3cret");
    assert.equal(await output(reader, ["cat", "/etc/info/labels"]), 'app="vols"');
    assert.match(await output(reader, ["stat", "-L", "-c", "%a", "/etc/sec/password"]), /^400/);
    // A read-only mount is read-only.
    assert.match(await output(reader, ["sh", "-c", "touch /etc/cfg/new 2>&1 || echo denied"]), /denied|Read-only/);

    const cm = await api.client.get<import("#pkg/api/types/index.js").ConfigMap>(CONFIGMAPS, "default", "cfg");
    await api.client.update(CONFIGMAPS, "default", { ...cm, data: { "app.conf": "v=2\n" } });
    await waitFor(async () => (await output(reader, ["cat", "/etc/cfg/app.conf"])) === "v=2\n", {
      timeoutMs: 30_000,
      intervalMs: 500,
      message: "mounted ConfigMap file updated",
    });
    // A key removed from the ConfigMap disappears from the volume.
    assert.match(await output(reader, ["sh", "-c", "cat /etc/cfg/other 2>&1 || echo gone"]), /gone|No such file/);
  });

  test("kubernetes.io/tls Secrets from kubectl's and kubeling's create secret tls mount as tls.crt and tls.key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kubeling-tls-volume-"));
    const kubectl = kubectlFor(api.kubeconfigPath);
    try {
      const pair = await newSelfSigned({ commonName: "tls.example" });
      writeFileSync(join(dir, "tls.crt"), pair.cert);
      writeFileSync(join(dir, "tls.key"), pair.key);
      const args = (name: string) => [
        "create",
        "secret",
        "tls",
        name,
        `--cert=${join(dir, "tls.crt")}`,
        `--key=${join(dir, "tls.key")}`,
      ];
      assert.equal(await kubectl.ok(args("tls-kubectl")), "secret/tls-kubectl created\n");
      const ours = await runCli(["--kubeconfig", api.kubeconfigPath, ...args("tls-kubeling")]);
      assert.equal(ours.stdout, "secret/tls-kubeling created\n", ours.stderr);
      for (const n of ["tls-kubectl", "tls-kubeling"])
        assert.equal((await api.client.get<Secret>(SECRETS, "default", n)).type, "kubernetes.io/tls", n);

      await api.client.create(PODS, "default", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "tls", namespace: "default" },
        spec: {
          nodeName: "node-1",
          terminationGracePeriodSeconds: 1,
          volumes: [
            { name: "a", secret: { secretName: "tls-kubectl" } },
            { name: "b", secret: { secretName: "tls-kubeling", items: [{ key: "tls.key", path: "private/key.pem" }] } },
          ],
          containers: [
            {
              name: "c",
              image: BUSYBOX_IMAGE,
              command: ["sleep", "3600"],
              volumeMounts: [
                { name: "a", mountPath: "/etc/tls", readOnly: true },
                { name: "b", mountPath: "/etc/tls-b", readOnly: true },
              ],
            },
          ],
        },
      });
      const p = await waitPod("tls", (x) => x.status?.phase === "Running");
      const c = idOf(p, "c");
      assert.equal(await output(c, ["cat", "/etc/tls/tls.crt"]), pair.cert, "the certificate, byte for byte");
      assert.equal(await output(c, ["cat", "/etc/tls/tls.key"]), pair.key, "the key, byte for byte");
      assert.equal(
        (await output(c, ["ls", "/etc/tls"])).split(/\s+/).filter(Boolean).sort().join(","),
        "tls.crt,tls.key",
      );
      // Secret volumes default to mode 0644 (defaultMode), as upstream.
      assert.match(await output(c, ["stat", "-L", "-c", "%a", "/etc/tls/tls.key"]), /^644/);
      assert.equal(await output(c, ["cat", "/etc/tls-b/private/key.pem"]), pair.key, "items: a key at its path");
      assert.match(
        await output(c, ["sh", "-c", "cat /etc/tls-b/tls.crt 2>&1 || echo absent"]),
        /absent|No such file/,
        "items: only the listed keys",
      );
    } finally {
      kubectl.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a missing ConfigMap holds the pod in ContainerCreating until it exists", async () => {
    await api.client.create(PODS, "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "waits", namespace: "default" },
      spec: {
        nodeName: "node-1",
        terminationGracePeriodSeconds: 2,
        volumes: [{ name: "cfg", configMap: { name: "later" } }],
        containers: [
          {
            name: "c",
            image: BUSYBOX_IMAGE,
            command: ["sleep", "3600"],
            volumeMounts: [{ name: "cfg", mountPath: "/cfg" }],
          },
        ],
      },
    });
    const pending = await waitPod("waits", (x) => cs(x, "c")?.state?.waiting?.reason === "ContainerCreating");
    assert.equal(pending.status?.phase, "Pending");
    await waitFor(
      async () => {
        const l = await api.client.list<import("#pkg/api/types/index.js").Event>(EVENTS, "default", {});
        return l.items.some((e) => e.involvedObject?.name === "waits" && e.reason === "FailedMount");
      },
      { timeoutMs: 15_000, message: "FailedMount event" },
    );
    await api.client.create(CONFIGMAPS, "default", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "later" },
      data: { k: "here" },
    });
    const p = await waitPod("waits", (x) => x.status?.phase === "Running");
    assert.equal(await output(idOf(p, "c"), ["cat", "/cfg/k"]), "here");
  });

  test("dnsPolicy ClusterFirst: the cluster DNS search path and ndots:5 in resolv.conf", async () => {
    await api.client.create(PODS, "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "dns", namespace: "default" },
      spec: {
        nodeName: "node-1",
        terminationGracePeriodSeconds: 2,
        hostAliases: [{ ip: "10.1.2.3", hostnames: ["alias.example"] }],
        containers: [{ name: "c", image: BUSYBOX_IMAGE, command: ["sleep", "3600"] }],
      },
    });
    const p = await waitPod("dns", (x) => x.status?.phase === "Running");
    const resolv = await output(idOf(p, "c"), ["cat", "/etc/resolv.conf"]);
    assert.match(resolv, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
    assert.match(resolv, /ndots:5/);
    const hosts = await output(idOf(p, "c"), ["cat", "/etc/hosts"]);
    assert.match(hosts, /10\.1\.2\.3\s+alias\.example/);
  });

  test("activeDeadlineSeconds: the pod is killed and Failed with reason DeadlineExceeded", async () => {
    await api.client.create(PODS, "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "deadline", namespace: "default" },
      spec: {
        nodeName: "node-1",
        activeDeadlineSeconds: 2,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "c", image: BUSYBOX_IMAGE, command: ["sleep", "3600"] }],
      },
    });
    const p = await waitPod("deadline", (x) => x.status?.phase === "Failed");
    assert.equal(p.status?.reason, "DeadlineExceeded");
    assert.ok(cs(p, "c")?.state?.terminated, JSON.stringify(cs(p, "c")?.state));
  });

  test("preStop hooks run before the container is stopped", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kubeling-prestop-"));
    try {
      await api.client.create(PODS, "default", {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "hooks", namespace: "default" },
        spec: {
          nodeName: "node-1",
          terminationGracePeriodSeconds: 5,
          volumes: [{ name: "host", hostPath: { path: dir, type: "Directory" } }],
          containers: [
            {
              name: "c",
              image: BUSYBOX_IMAGE,
              command: ["sleep", "3600"],
              volumeMounts: [{ name: "host", mountPath: "/host" }],
              lifecycle: {
                postStart: { exec: { command: ["sh", "-c", "echo started > /host/poststart"] } },
                preStop: { exec: { command: ["sh", "-c", "echo bye > /host/prestop"] } },
              },
            },
          ],
        },
      });
      await waitPod("hooks", (x) => x.status?.phase === "Running");
      await waitFor(() => existsSync(join(dir, "poststart")), { timeoutMs: 10_000, message: "postStart ran" });
      await api.client.delete(PODS, "default", "hooks", { gracePeriodSeconds: 5 });
      await waitPodGone(api.client, "default", "hooks", 15_000);
      assert.equal(readFileSync(join(dir, "prestop"), "utf8"), "bye\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("hostNetwork pods get the node's IP; service env vars are injected", async () => {
    await api.client.create(SERVICES, "default", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "my-svc" },
      spec: { selector: { app: "x" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
    });
    const svc = await api.client.get<import("#pkg/api/types/index.js").Service>(SERVICES, "default", "my-svc");
    const ip = svc.spec?.clusterIP;
    assert.ok(ip);
    await api.client.create(PODS, "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "hostnet", namespace: "default" },
      spec: {
        nodeName: "node-1",
        hostNetwork: true,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: "c", image: BUSYBOX_IMAGE, command: ["sleep", "3600"] }],
      },
    });
    const p = await waitPod("hostnet", (x) => x.status?.phase === "Running");
    assert.equal(p.status?.podIP, "127.0.0.1");
    const env = await output(idOf(p, "c"), ["env"]);
    assert.match(env, new RegExp(`MY_SVC_SERVICE_HOST=${ip.replace(/\./g, "\\.")}`));
    assert.match(env, /MY_SVC_SERVICE_PORT=80/);
    // The host's loopback is this container's loopback.
    const lo = await output(idOf(p, "c"), ["sh", "-c", "ip -4 addr show lo"]);
    assert.match(lo, /127\.0\.0\.1/);
  });
});
