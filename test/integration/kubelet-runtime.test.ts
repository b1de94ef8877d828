// DockerRuntime against the real Docker engine: sandbox + app containers sharing one network
// namespace, labels and names, logs, exec, stop/remove, and isolation between nodes/clusters.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import Docker from "dockerode";
import { silentLogger } from "#pkg/runtime/log.js";
import { DockerRuntime } from "../../kubelet/runtime/docker.js";
import { LABEL_CLUSTER } from "../../kubelet/runtime/runtime.js";
import { BUSYBOX_IMAGE, ensureLocalImages, PAUSE_IMAGE } from "../harness/images.js";
import { cleanupCluster } from "../harness/kubelet.js";
import { waitFor } from "../harness/wait.js";

const docker = new Docker();

async function readAll(s: NodeJS.ReadableStream): Promise<string> {
  let out = "";
  for await (const c of s) out += c.toString();
  return out;
}

describe("DockerRuntime (real Docker)", () => {
  const cluster = `kl-rt-${randomUUID().slice(0, 8)}`;
  const rt = new DockerRuntime({ clusterName: cluster, nodeName: "node-1", log: silentLogger });
  const rt2 = new DockerRuntime({ clusterName: cluster, nodeName: "node-2", log: silentLogger });
  const uid = randomUUID();
  const pod = { podUid: uid, podName: "web", podNamespace: "default" };

  before(async () => {
    await docker.ping();
    ensureLocalImages();
    await rt.ensureNetwork();
    await rt2.ensureNetwork(); // idempotent, same network
  });
  after(async () => {
    await cleanupCluster(cluster);
  });

  test("kubelets starting together agree on one cluster network (duplicates removed)", async () => {
    const racing = `kl-rt-race-${randomUUID().slice(0, 8)}`;
    const rts = [1, 2, 3, 4].map(
      (i) => new DockerRuntime({ clusterName: racing, nodeName: `node-${i}`, log: silentLogger }),
    );
    try {
      await Promise.all(rts.map((r) => r.ensureNetwork()));
      // A second round settles what the first left: every runtime now sees the same survivor.
      await Promise.all(rts.map((r) => r.ensureNetwork()));
      const nets = (await docker.listNetworks({ filters: { name: [racing] } })).filter((n) => n.Name === racing);
      assert.equal(nets.length, 1, `networks named ${racing}: ${nets.map((n) => n.Id).join(", ")}`);
    } finally {
      await cleanupCluster(racing);
    }
  });

  test("sandbox and two containers share one IP and localhost", async () => {
    const sb = await rt.runSandbox({
      ...pod,
      attempt: 0,
      hostname: "web",
      image: PAUSE_IMAGE,
      portBindings: [],
      terminationGraceSeconds: 30,
    });
    assert.match(sb.ip, /^\d+\.\d+\.\d+\.\d+$/);
    const common = {
      ...pod,
      type: "app" as const,
      sandboxId: sb.id,
      image: BUSYBOX_IMAGE,
      env: ["GREETING=hi"],
      tty: false,
      stdin: false,
      terminationGraceSeconds: 5,
      restartCount: 0,
      hash: "h1",
    };
    const httpdId = await rt.createContainer({
      ...common,
      name: "httpd",
      command: ["sh", "-c"],
      args: [
        "mkdir -p /www && echo hello-from-httpd > /www/index.html && echo started $GREETING && exec httpd -f -p 8080 -h /www",
      ],
    });
    await rt.startContainer(httpdId);
    const clientId = await rt.createContainer({
      ...common,
      name: "client",
      command: ["sh", "-c", "sleep 3600"],
    });
    await rt.startContainer(clientId);

    const list = await waitFor(
      async () => {
        const l = await rt.list();
        return l.filter((c) => c.state === "running").length === 3 ? l : undefined;
      },
      { timeoutMs: 10_000, message: "3 running containers" },
    );
    const httpd = list.find((c) => c.name === "httpd");
    assert.ok(httpd);
    assert.equal(httpd.podUid, uid);
    assert.equal(httpd.restartCount, 0);
    assert.equal(httpd.hash, "h1");
    assert.ok(list.find((c) => c.type === "sandbox" && c.ip === sb.ip));
    const names = (await docker.listContainers({ filters: { label: [`${LABEL_CLUSTER}=${cluster}`] } })).map(
      (c) => c.Names[0],
    );
    assert.ok(names.includes(`/k8s_httpd_web_default_${uid}_0`), names.join(","));
    assert.ok(names.includes(`/k8s_POD_web_default_${uid}_0`));

    // the client reaches httpd on localhost (shared network namespace)
    const r = await waitFor(
      async () => {
        const res = await rt.execSync(
          clientId,
          ["sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 8080"],
          5000,
        );
        return res.output.includes("hello-from-httpd") ? res : undefined;
      },
      { timeoutMs: 10_000, message: "nc localhost:8080 answers" },
    );
    assert.equal(r.exitCode, 0);
    // both see the same IP
    const ipOut = await rt.execSync(clientId, ["sh", "-c", "ip -4 addr show eth0"], 5000);
    assert.ok(ipOut.output.includes(sb.ip), ipOut.output);

    const logs = await readAll(await rt.logs(httpdId, { follow: false, timestamps: false }));
    assert.equal(logs, "started hi\n");

    const e = await rt.execSync(clientId, ["sh", "-c", "echo out; echo err >&2; exit 3"], 5000);
    assert.equal(e.exitCode, 3);
    assert.match(e.output, /out/);
    assert.match(e.output, /err/);

    // another node of the same cluster sees nothing of node-1
    assert.equal((await rt2.list()).length, 0);

    // graceful stop is fast thanks to Init (docker-init forwards SIGTERM)
    const t0 = Date.now();
    await rt.stopContainer(clientId, 10);
    assert.ok(Date.now() - t0 < 5000, `stop took ${Date.now() - t0}ms`);
    const stopped = (await rt.list()).find((c) => c.id === clientId);
    assert.equal(stopped?.state, "exited");
    assert.ok(stopped?.finishedAt);
    await rt.removeContainer(clientId);
    await rt.removeContainer(clientId); // idempotent
    assert.equal(
      (await rt.list()).some((c) => c.id === clientId),
      false,
    );
  });

  test("exit code and reason of an exited container; follow logs", async () => {
    const sb = await rt.runSandbox({
      ...pod,
      podUid: `${uid}-b`,
      attempt: 0,
      hostname: "b",
      image: PAUSE_IMAGE,
      portBindings: [],
      terminationGraceSeconds: 30,
    });
    const id = await rt.createContainer({
      ...pod,
      podUid: `${uid}-b`,
      type: "app",
      sandboxId: sb.id,
      image: BUSYBOX_IMAGE,
      env: [],
      tty: false,
      stdin: false,
      terminationGraceSeconds: 1,
      restartCount: 2,
      hash: "x",
      name: "quit",
      command: ["sh", "-c", "echo one; sleep 0.3; echo two >&2; exit 7"],
    });
    const ac = new AbortController();
    const events: string[] = [];
    const evLoop = (async () => {
      for await (const ev of rt.events(ac.signal)) events.push(`${ev.action}:${ev.containerId === id}`);
    })();
    await rt.startContainer(id);
    const follow = await readAll(await rt.logs(id, { follow: true, timestamps: false }));
    assert.equal(follow, "one\ntwo\n");
    const c = await waitFor(async () => (await rt.list()).find((x) => x.id === id && x.state === "exited"), {
      timeoutMs: 5000,
    });
    assert.equal(c.exitCode, 7);
    assert.equal(c.reason, "Error");
    assert.equal(c.restartCount, 2);
    await waitFor(() => events.includes("die:true"), { timeoutMs: 5000, message: "die event" });
    ac.abort();
    await evLoop;
  });
});
