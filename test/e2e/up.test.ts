// The local launcher (scripts/up.ts, `npm run up`) as a user runs it: one node in a fresh state
// dir under a unique --cluster-name, a pod Running on it, then SIGTERM: every process it started
// exits, and Docker holds no container and no network of that cluster.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { NODES, PODS } from "#pkg/api/resources.js";
import { ApiClient } from "#pkg/client/client.js";
import { removeClusterObjects } from "../harness/cluster.js";
import { BUSYBOX_IMAGE } from "../harness/images.js";
import { docker } from "../harness/kubelet.js";
import { waitFor } from "../harness/wait.js";

const UP = fileURLToPath(new URL("../../scripts/up.ts", import.meta.url));
// tsx compiles every component on a 2-core box shared with other test runs: be generous.
const START_MS = 120_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("npm run up", () => {
  const cluster = `up-${randomUUID().slice(0, 8)}`;
  const state = mkdtempSync(join(tmpdir(), "kubeling-up-"));
  const kubeconfig = join(state, "kubeconfig");
  let child: ChildProcess | undefined;
  let client: ApiClient | undefined;
  let out = "";
  /** The pids the launcher reports ("started apiserver (pid 123)"). */
  const pids = () => [...out.matchAll(/started (\S+) \(pid (\d+)\)/g)].map((m) => Number(m[2]));

  after(async () => {
    await client?.close();
    if (child?.pid && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    for (const pid of pids()) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
    await removeClusterObjects(cluster);
    rmSync(state, { recursive: true, force: true });
  });

  test("SIGTERM stops every process it started, the pods' containers and the cluster network", async () => {
    const c = spawn(
      process.execPath,
      [
        "--conditions=source",
        "--import",
        "tsx",
        UP,
        "--nodes=1",
        "--fresh",
        `--state-dir=${state}`,
        `--cluster-name=${cluster}`,
      ],
      {
        env: { ...process.env, LOG_FORMAT: "json" },
        stdio: ["ignore", "pipe", "pipe"],
        // Its own process group, as from a terminal: our signal reaches only the launcher.
        detached: true,
      },
    );
    child = c;
    // The launcher's output, for failure messages and its children's pids.
    const keep = (d: Buffer) => {
      out = (out + d.toString()).slice(-100_000);
    };
    c.stdout?.on("data", keep);
    c.stderr?.on("data", keep);
    const exited = new Promise<number | null>((resolve) => c.once("exit", (code) => resolve(code)));
    const failed = () => `launcher output:\n${out}`;

    await waitFor(() => existsSync(kubeconfig) || c.exitCode !== null, { timeoutMs: START_MS, message: "kubeconfig" });
    assert.equal(c.exitCode, null, failed());
    client = ApiClient.fromKubeconfig({ path: kubeconfig });
    const api = client;
    await waitFor(
      async () =>
        (await api.get(NODES, undefined, "node-1")).status?.conditions?.some(
          (x) => x.type === "Ready" && x.status === "True",
        ),
      { timeoutMs: START_MS, intervalMs: 500, message: `node-1 Ready\n${failed()}` },
    );
    await api.create(PODS, "default", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "up-test", namespace: "default" },
      spec: {
        containers: [{ name: "c", image: BUSYBOX_IMAGE, imagePullPolicy: "IfNotPresent", command: ["sleep", "3600"] }],
      },
    });
    await waitFor(async () => (await api.get(PODS, "default", "up-test")).status?.phase === "Running", {
      timeoutMs: START_MS,
      intervalMs: 500,
      message: `pod Running\n${failed()}`,
    });
    const label = `kubeling.io/cluster=${cluster}`;
    assert.ok((await docker.listContainers({ filters: { label: [label] } })).length >= 2, "sandbox and container run");
    const started = pids();
    assert.ok(started.length >= 4, `etcd, apiserver, scheduler, kubelet started\n${failed()}`);

    c.kill("SIGTERM");
    const code = await Promise.race([
      exited,
      new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), 90_000).unref()),
    ]);
    assert.equal(code, 0, failed());
    for (const pid of started) assert.ok(!alive(pid), `pid ${pid} exited\n${failed()}`);
    assert.deepEqual(await docker.listContainers({ all: true, filters: { label: [label] } }), []);
    assert.deepEqual(await docker.listNetworks({ filters: { label: [label] } }), []);
  });
});
