// The kubeling CLI's node and pod-interaction commands against a real API server and a real
// kubelet running pods in Docker: get nodes/pods -o wide, describe node, wait, logs, exec,
// port-forward, cordon/uncordon and drain.

import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { isNotFound } from "#pkg/api/errors.js";
import { NODES, PODS } from "#pkg/api/resources.js";
import type { Node, Pod } from "#pkg/api/types/index.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { BUSYBOX_IMAGE, ensureLocalImages } from "../harness/images.js";
import { cleanupCluster, docker, startKubelet, type TestKubelet } from "../harness/kubelet.js";
import { freePort } from "../harness/ports.js";
import { waitFor } from "../harness/wait.js";
import { runCli, spawnCli, stopCli } from "./cli-helpers.js";

function httpGet(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => s.write("GET / HTTP/1.0\r\n\r\n"));
    let body = "";
    s.on("data", (d: Buffer) => {
      body += d.toString();
    });
    s.on("close", () => resolve(body));
    s.on("error", reject);
  });
}

describe("kubeling CLI with a kubelet: nodes, logs, exec, port-forward, drain", () => {
  const cluster = `cli-e2e-${process.pid}`;
  const nodeName = "cli-node-1";
  let api: TestApiServer;
  let kubelet: TestKubelet;
  let kc: string[];

  before(async () => {
    await docker.ping();
    ensureLocalImages();
    api = await startApiServer();
    kc = ["--kubeconfig", api.kubeconfigPath];
    kubelet = await startKubelet({ kubeconfigPath: api.kubeconfigPath, pki: api.pki, nodeName, clusterName: cluster });
    await waitFor(
      async () => {
        const n = await api.client.get<Node>(NODES, undefined, nodeName);
        return n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
      },
      { timeoutMs: 30_000, message: `${nodeName} Ready` },
    );
    await api.client.create(PODS, "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "echo" },
      spec: {
        nodeName,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "main",
            image: BUSYBOX_IMAGE,
            command: ["sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 1; done"],
          },
          {
            name: "web",
            image: BUSYBOX_IMAGE,
            command: [
              "sh",
              "-c",
              "while true; do printf 'HTTP/1.0 200 OK\\r\\n\\r\\nhello from pod\\n' | nc -l -p 8080; done",
            ],
          },
        ],
      },
    });
  });

  after(async () => {
    await kubelet?.stop();
    await cleanupCluster(cluster);
    await api?.stop();
  });

  test("wait --for=condition=Ready, then get pods/nodes -o wide", async () => {
    let r = await runCli([...kc, "wait", "--for=condition=Ready", "pod/echo", "--timeout=60s"], { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "pod/echo condition met\n");
    r = await runCli([...kc, "get", "pods", "-o", "wide"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+/);
    assert.match(r.stdout, new RegExp(`\\necho\\s+2/2\\s+Running\\s+\\d+\\s+\\S+\\s+[\\d.]+\\s+${nodeName}\\s`));
    r = await runCli([...kc, "get", "nodes"]);
    assert.match(r.stdout, new RegExp(`^NAME\\s+STATUS\\s+ROLES\\s+AGE\\s+VERSION\\n${nodeName}\\s+Ready\\s`));
    r = await runCli([...kc, "wait", "--for=condition=Nope", "pod/echo", "--timeout=1s"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "error: timed out waiting for the condition on pods/echo\n");
  });

  test("describe node lists its pods and allocated resources", async () => {
    const r = await runCli([...kc, "describe", "node", nodeName]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^Name:\\s+${nodeName}\\n`));
    assert.match(r.stdout, /\nConditions:\n\s+Type\s+Status\s+LastHeartbeatTime/);
    assert.match(r.stdout, /\n {2}Ready\s+True\s/);
    assert.match(r.stdout, /\nAddresses:\n {2}InternalIP:\s+127\.0\.0\.1\n/);
    assert.match(r.stdout, /\nNon-terminated Pods:\s+\(1 in total\)\n/);
    assert.match(r.stdout, /\n {2}default\s+echo\s+0 \(0%\)/);
    assert.match(r.stdout, /\nAllocated resources:\n/);
  });

  test("logs: container choice, --tail, unknown container", async () => {
    await waitFor(async () => (await runCli([...kc, "logs", "echo", "-c", "main"])).stdout.includes("line 2"), {
      timeoutMs: 30_000,
      message: "three log lines",
    });
    let r = await runCli([...kc, "logs", "echo", "--tail=1"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^line \d+\n$/);
    assert.equal(r.stderr, 'Defaulted container "main" out of: main, web\n');
    r = await runCli([...kc, "logs", "echo", "-c", "nope"]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "error: container nope is not valid for pod echo\n");
  });

  test("logs -f streams new lines", async () => {
    const child = spawnCli([...kc, "logs", "-f", "echo", "-c", "main", "--tail=1"]);
    try {
      const first = await waitFor(() => /line (\d+)\n/.exec(child.out())?.[1], {
        timeoutMs: 20_000,
        message: "a line",
      });
      const next = Number(first) + 2;
      await waitFor(() => child.out().includes(`line ${next}\n`), { timeoutMs: 20_000, message: `line ${next}` });
    } finally {
      await stopCli(child);
    }
  });

  test("exec: stdout/stderr, the remote exit code, and stdin", async () => {
    let r = await runCli([...kc, "exec", "echo", "-c", "main", "--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, "out\n");
    assert.equal(r.stderr, "err\ncommand terminated with exit code 3\n");
    r = await runCli([...kc, "exec", "-i", "echo", "-c", "main", "--", "cat"], { stdin: "piped through\n" });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "piped through\n");
  });

  test("port-forward reaches the pod's port", async () => {
    const local = await freePort();
    const child = spawnCli([...kc, "port-forward", "pod/echo", `${local}:8080`]);
    try {
      await waitFor(() => child.out().includes(`Forwarding from 127.0.0.1:${local} -> 8080`), {
        timeoutMs: 20_000,
        message: `port-forward to listen (stderr: ${child.err()})`,
      });
      assert.match(await httpGet(local), /hello from pod/);
      assert.match(await httpGet(local), /hello from pod/);
    } finally {
      await stopCli(child);
    }
  });

  test("cordon / uncordon / drain", async () => {
    let r = await runCli([...kc, "cordon", nodeName]);
    assert.equal(r.stdout, `node/${nodeName} cordoned\n`);
    assert.equal((await api.client.get<Node>(NODES, undefined, nodeName)).spec?.unschedulable, true);
    r = await runCli([...kc, "get", "nodes"]);
    assert.match(r.stdout, /Ready,SchedulingDisabled/);
    r = await runCli([...kc, "uncordon", nodeName]);
    assert.equal(r.stdout, `node/${nodeName} uncordoned\n`);
    assert.ok(!(await api.client.get<Node>(NODES, undefined, nodeName)).spec?.unschedulable);

    r = await runCli([...kc, "drain", nodeName]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot delete Pods that declare no controller \(use --force to override\): default\/echo/);
    r = await runCli([...kc, "drain", nodeName, "--force"], { timeoutMs: 90_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      `node/${nodeName} already cordoned\nevicting pod default/echo\npod/echo evicted\nnode/${nodeName} drained\n`,
    );
    await assert.rejects(api.client.get<Pod>(PODS, "default", "echo"), (e: unknown) => isNotFound(e));
    r = await runCli([...kc, "uncordon", nodeName]);
    assert.equal(r.code, 0);
  });
});
