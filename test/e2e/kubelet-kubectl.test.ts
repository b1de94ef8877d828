// Real kubectl → kubeling API server → kubelet proxy → kubelet → Docker: kubectl logs (plain,
// --tail, -f), exec (exit codes, stdin) and port-forward (SPDY/3.1 over WebSocket); and kubectl
// 1.27 and 1.29, which speak plain SPDY/3.1 for exec and port-forward (issue 12).

import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { PODS } from "#pkg/api/resources.js";
import type { Pod } from "#pkg/api/types/index.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { BUSYBOX_IMAGE, ensureLocalImages } from "../harness/images.js";
import { cleanupCluster, docker, startKubelet, type TestKubelet } from "../harness/kubelet.js";
import { freePort } from "../harness/ports.js";
import { waitFor } from "../harness/wait.js";

describe("kubectl logs/exec/port-forward through the API server to the kubelet", () => {
  const cluster = `kl-e2e-${randomUUID().slice(0, 8)}`;
  const cacheDir = mkdtempSync(join(tmpdir(), "kubectl-cache-"));
  let api: TestApiServer;
  let kubelet: TestKubelet;
  const children: ChildProcess[] = [];

  /** The versioned clients beside /usr/bin/kubectl (the dispatcher picks by the server's /version). */
  const versioned = (minor: string) => `/usr/lib/google-cloud-sdk/bin/kubectl.${minor}`;
  const kubectl = (args: string[], input?: string, bin = "kubectl") =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        bin,
        [`--kubeconfig=${api.kubeconfigPath}`, `--cache-dir=${cacheDir}`, ...args],
        { timeout: 30_000 },
        (err, stdout, stderr) => {
          const code = err
            ? typeof (err as { code?: unknown }).code === "number"
              ? (err as { code: number }).code
              : 1
            : 0;
          resolve({ code, stdout, stderr });
        },
      );
      if (input !== undefined) child.stdin?.end(input);
    });

  before(async () => {
    await docker.ping();
    ensureLocalImages();
    api = await startApiServer();
    kubelet = await startKubelet({
      kubeconfigPath: api.kubeconfigPath,
      pki: api.pki,
      nodeName: "node-1",
      clusterName: cluster,
    });
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web", namespace: "default" },
      spec: {
        nodeName: "node-1",
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: "web",
            image: BUSYBOX_IMAGE,
            command: [
              "sh",
              "-c",
              "mkdir -p /www && echo hello-pf > /www/index.html && httpd -p 8080 -h /www && i=0; while true; do echo line-$i; i=$((i+1)); sleep 0.5; done",
            ],
          },
          { name: "side", image: BUSYBOX_IMAGE, command: ["sh", "-c", "echo side-says-hi; sleep 3600"] },
        ],
      },
    };
    await api.client.create(PODS, "default", pod);
    await waitFor(async () => (await api.client.get<Pod>(PODS, "default", "web")).status?.phase === "Running", {
      timeoutMs: 30_000,
      message: "pod web Running",
    });
  });

  after(async () => {
    for (const c of children) c.kill("SIGKILL");
    await kubelet?.stop();
    await cleanupCluster(cluster);
    await api?.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  test("kubectl logs, --tail, -c, and an unknown container", async () => {
    const r = await waitFor(
      async () => {
        const x = await kubectl(["logs", "web", "-c", "web"]);
        return x.code === 0 && x.stdout.includes("line-2") ? x : undefined;
      },
      { timeoutMs: 15_000, message: "three log lines" },
    );
    assert.match(r.stdout, /^line-0\nline-1\n/);
    const tail = await kubectl(["logs", "web", "-c", "web", "--tail=1"]);
    assert.equal(tail.code, 0);
    assert.equal(tail.stdout.trim().split("\n").length, 1);
    assert.match(tail.stdout, /^line-\d+\n$/);
    const side = await kubectl(["logs", "web", "-c", "side", "--timestamps"]);
    assert.match(side.stdout, /^\d{4}-\d\d-\d\dT\S+Z side-says-hi\n$/);
    // Without -c kubectl picks the first container itself.
    const noC = await kubectl(["logs", "web", "--tail=1"]);
    assert.equal(noC.code, 0);
    assert.match(noC.stdout, /^line-\d+\n$/);
    const unknown = await kubectl(["logs", "web", "-c", "nope"]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /nope/);
  });

  test("kubectl logs -f streams new lines as they are written", async () => {
    const child = spawn("kubectl", [
      `--kubeconfig=${api.kubeconfigPath}`,
      `--cache-dir=${cacheDir}`,
      "logs",
      "-f",
      "web",
      "-c",
      "web",
      "--tail=1",
    ]);
    children.push(child);
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const first = await waitFor(() => /line-(\d+)/.exec(out)?.[1], {
      timeoutMs: 15_000,
      message: "first followed line",
    });
    // Lines written after kubectl started arrive on the same stream.
    await waitFor(() => out.includes(`line-${Number(first) + 3}`), { timeoutMs: 15_000, message: "three more lines" });
    child.kill();
  });

  test("kubectl exec: output, stderr, exit code, and stdin", async () => {
    const ok = await kubectl(["exec", "web", "-c", "web", "--", "sh", "-c", "echo out; echo err >&2"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "out\n");
    assert.equal(ok.stderr, "err\n");
    const bad = await kubectl(["exec", "web", "-c", "web", "--", "sh", "-c", "exit 3"]);
    assert.equal(bad.code, 3);
    assert.match(bad.stderr, /command terminated with exit code 3/);
    const cat = await kubectl(["exec", "-i", "web", "-c", "side", "--", "cat"], "from-stdin\n");
    assert.equal(cat.code, 0, cat.stderr);
    assert.equal(cat.stdout, "from-stdin\n");
    const ip = (await api.client.get<Pod>(PODS, "default", "web")).status?.podIP ?? "";
    const local = await kubectl([
      "exec",
      "web",
      "-c",
      "side",
      "--",
      "sh",
      "-c",
      "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 8080",
    ]);
    assert.match(local.stdout, /hello-pf/);
    assert.ok(ip);
  });

  test("kubectl exec -it: a terminal in the container, and the exit code", async () => {
    // script(1) gives kubectl a pseudo-terminal, as an interactive shell would.
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile(
        "script",
        [
          "-qec",
          `kubectl --kubeconfig=${api.kubeconfigPath} --cache-dir=${cacheDir} exec -it web -c side -- sh -c 'tty; exit 4'`,
          "/dev/null",
        ],
        { timeout: 30_000 },
        (err, stdout) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout }),
      );
    });
    assert.match(r.out, /\/dev\/pts\/\d+/);
    assert.match(r.out, /command terminated with exit code 4/);
    assert.equal(r.code, 4);
  });

  /** portForward: runs `kubectl port-forward pod/web <free>:8080` until ready; the local port. */
  const portForward = async (bin = "kubectl"): Promise<number> => {
    const port = await freePort();
    const child = spawn(bin, [
      `--kubeconfig=${api.kubeconfigPath}`,
      `--cache-dir=${cacheDir}`,
      "port-forward",
      "pod/web",
      `${port}:8080`,
    ]);
    children.push(child);
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      out += d.toString();
    });
    await waitFor(() => out.includes("Forwarding from 127.0.0.1"), {
      timeoutMs: 15_000,
      message: `port-forward ready: ${out}`,
    });
    return port;
  };

  test("kubectl port-forward forwards a local port to the pod", async () => {
    const port = await portForward();
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/index.html`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), "hello-pf\n");
    }
  });

  for (const minor of ["1.27", "1.29"]) {
    test(`kubectl ${minor} (plain SPDY/3.1): exec output, stderr, exit code, stdin, a terminal; port-forward`, async () => {
      const bin = versioned(minor);
      const ok = await kubectl(
        ["exec", "web", "-c", "web", "--", "sh", "-c", "echo out; echo err >&2"],
        undefined,
        bin,
      );
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, "out\n");
      assert.equal(ok.stderr, "err\n");
      const bad = await kubectl(["exec", "web", "-c", "web", "--", "sh", "-c", "exit 3"], undefined, bin);
      assert.equal(bad.code, 3, bad.stderr);
      assert.match(bad.stderr, /command terminated with exit code 3/);
      const cat = await kubectl(["exec", "-i", "web", "-c", "side", "--", "cat"], "from-stdin\n", bin);
      assert.equal(cat.code, 0, cat.stderr);
      assert.equal(cat.stdout, "from-stdin\n");
      const tty = await new Promise<{ code: number; out: string }>((resolve) => {
        execFile(
          "script",
          [
            "-qec",
            `${bin} --kubeconfig=${api.kubeconfigPath} --cache-dir=${cacheDir} exec -it web -c side -- sh -c 'tty; stty size; exit 4'`,
            "/dev/null",
          ],
          { timeout: 30_000 },
          (err, stdout) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout }),
        );
      });
      assert.match(tty.out, /\/dev\/pts\/\d+/);
      assert.match(tty.out, /command terminated with exit code 4/);
      assert.equal(tty.code, 4);
      const port = await portForward(bin);
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/index.html`);
        assert.equal(res.status, 200);
        assert.equal(await res.text(), "hello-pf\n");
      }
    });
  }

  test("kubectl logs --previous shows the last terminated container", async () => {
    await api.client.create(PODS, "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "crashy", namespace: "default" },
      spec: {
        nodeName: "node-1",
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: "c",
            image: BUSYBOX_IMAGE,
            command: ["sh", "-c", "echo run-$(cat /proc/sys/kernel/random/uuid); exit 1"],
          },
        ],
      },
    });
    await waitFor(
      async () =>
        ((await api.client.get<Pod>(PODS, "default", "crashy")).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1,
      { timeoutMs: 30_000, message: "crashy restarted once" },
    );
    const prev = await waitFor(
      async () => {
        const r = await kubectl(["logs", "crashy", "--previous"]);
        return r.code === 0 && /^run-[0-9a-f-]+\n$/.test(r.stdout) ? r : undefined;
      },
      { timeoutMs: 15_000, message: "logs --previous" },
    );
    const cur = await waitFor(
      async () => {
        const r = await kubectl(["logs", "crashy"]);
        return r.code === 0 && r.stdout.startsWith("run-") ? r : undefined;
      },
      { timeoutMs: 15_000, message: "logs of the current container" },
    );
    assert.notEqual(prev.stdout, cur.stdout, "previous and current are different runs");
  });
});
