// The local launcher (scripts/up.ts, `npm run up`) as a user runs it: one node in a fresh state
// dir under a unique --cluster-name, a pod Running on it, then the launcher is stopped: every
// process it started exits, and Docker holds no container and no network of that cluster.
// Stopped two ways: SIGTERM (Ctrl-C, kill), and its parent process dying without passing a signal
// on (npm answering SIGTERM by exiting; a terminal closing), with a SIGHUP during that stop.
// Security as kubeadm's: each component under its own client certificate, etcd TLS-only. As root
// the launcher's kube-proxy runs in iptables mode, and leaves no chain of the cluster behind.

import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { NODES, PODS } from "#pkg/api/resources.js";
import { ApiClient } from "#pkg/client/client.js";
import { loadKubeconfig } from "#pkg/client/kubeconfig.js";
import { certInfo } from "#pkg/pki/certs.js";
import { chainNames } from "../../proxy/iptables/chains.js";
import { removeClusterObjects } from "../harness/cluster.js";
import { BUSYBOX_IMAGE } from "../harness/images.js";
import { docker } from "../harness/kubelet.js";
import { waitFor } from "../harness/wait.js";

const UP = fileURLToPath(new URL("../../scripts/up.ts", import.meta.url));
// tsx compiles every component on a 2-core box shared with other test runs: be generous.
const START_MS = 120_000;
const STOP_MS = 90_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // An orphan's exit is reaped by whoever adopted it, maybe late: a zombie has exited.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // gone already
  }
}

/** A launcher run: its own cluster name and state dir, cleaned up whatever happens. */
class UpRun {
  readonly cluster = `up-${randomUUID().slice(0, 8)}`;
  readonly state = mkdtempSync(join(tmpdir(), "kubeling-up-"));
  readonly label = `kubeling.io/cluster=${this.cluster}`;
  /** What is spawned: the launcher itself, or the process that starts it. */
  child: ChildProcess | undefined;
  client: ApiClient | undefined;
  out = "";

  /** The launcher's arguments (after node). */
  args(): string[] {
    return [
      "--conditions=source",
      "--import",
      "tsx",
      UP,
      "--nodes=1",
      "--fresh",
      `--state-dir=${this.state}`,
      `--cluster-name=${this.cluster}`,
    ];
  }

  /** spawn runs argv in its own process group (as from a terminal) and keeps its output. */
  spawn(argv: string[]): ChildProcess {
    const c = spawn(process.execPath, argv, {
      env: { ...process.env, LOG_FORMAT: "json" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.child = c;
    const keep = (d: Buffer) => {
      this.out = (this.out + d.toString()).slice(-100_000);
    };
    c.stdout?.on("data", keep);
    c.stderr?.on("data", keep);
    return c;
  }

  failed(): string {
    return `launcher output:\n${this.out}`;
  }

  /** The pids the launcher reports ("started apiserver (pid 123)"). */
  pids(): number[] {
    return [...this.out.matchAll(/started (\S+) \(pid (\d+)\)/g)].map((m) => Number(m[2]));
  }

  /** untilPodRunning waits for node-1 Ready and a pod Running on it, and returns the started pids. */
  async untilPodRunning(): Promise<number[]> {
    const kubeconfig = join(this.state, "kubeconfig");
    const c = this.child as ChildProcess;
    await waitFor(() => existsSync(kubeconfig) || c.exitCode !== null, { timeoutMs: START_MS, message: "kubeconfig" });
    assert.equal(c.exitCode, null, this.failed());
    const api = ApiClient.fromKubeconfig({ path: kubeconfig });
    this.client = api;
    await waitFor(
      async () =>
        (await api.get(NODES, undefined, "node-1")).status?.conditions?.some(
          (x) => x.type === "Ready" && x.status === "True",
        ),
      { timeoutMs: START_MS, intervalMs: 500, message: `node-1 Ready\n${this.failed()}` },
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
      message: `pod Running\n${this.failed()}`,
    });
    assert.ok(
      (await docker.listContainers({ filters: { label: [this.label] } })).length >= 2,
      "sandbox and container run",
    );
    const started = this.pids();
    assert.ok(started.length >= 4, `etcd, apiserver, scheduler, kubelet started\n${this.failed()}`);
    await api.close();
    this.client = undefined;
    return started;
  }

  /**
   * assertIdentities: each component runs with a kubeconfig of its own identity (its client
   * certificate's CN, read from the kubeconfig its command line names), and etcd answers only
   * TLS with a client certificate.
   */
  async assertIdentities(): Promise<void> {
    const pidOf = (name: string) => Number(new RegExp(`started ${name} \\(pid (\\d+)\\)`).exec(this.out)?.[1]);
    const identity = (name: string) => {
      const argv = readFileSync(`/proc/${pidOf(name)}/cmdline`, "utf8").split("\0");
      const path = argv.find((a) => a.startsWith("--kubeconfig="))?.slice("--kubeconfig=".length);
      assert.ok(path, `${name} has a --kubeconfig: ${argv.join(" ")}`);
      const c = loadKubeconfig({ path });
      assert.equal(c.token, undefined, `${name}: a client certificate, no token`);
      const info = certInfo(c.certPem as string);
      return [info.commonName, ...info.organizations].join(" ");
    };
    assert.equal(identity("scheduler"), "system:kube-scheduler");
    assert.equal(identity("controller-manager"), "system:kube-controller-manager");
    assert.equal(identity("kubelet-node-1"), "system:node:node-1 system:nodes");
    const admin = loadKubeconfig({ path: join(this.state, "kubeconfig") });
    assert.equal(certInfo(admin.certPem as string).commonName, "kubernetes-admin");

    const ports = JSON.parse(readFileSync(join(this.state, "up-ports.json"), "utf8")) as { etcd: number };
    const plain = await fetch(`http://127.0.0.1:${ports.etcd}/health`, { signal: AbortSignal.timeout(5000) }).then(
      async (r) => r.text(),
      (err: Error) => err.message,
    );
    assert.doesNotMatch(plain, /"health":"true"/, "etcd does not answer plain HTTP");
    const noCert = await fetch(`https://127.0.0.1:${ports.etcd}/health`, { signal: AbortSignal.timeout(5000) }).then(
      async (r) => r.text(),
      (err: Error) => err.message,
    );
    assert.doesNotMatch(noCert, /"health":"true"/, "etcd does not answer without a client certificate");
  }

  /** assertAllGone: the started processes exited, no container and no network of the cluster is left. */
  async assertAllGone(started: number[]): Promise<void> {
    for (const pid of started) assert.ok(!alive(pid), `pid ${pid} exited\n${this.failed()}`);
    assert.deepEqual(await docker.listContainers({ all: true, filters: { label: [this.label] } }), [], this.failed());
    assert.deepEqual(await docker.listNetworks({ filters: { label: [this.label] } }), [], this.failed());
    // kube-proxy (iptables mode as root) leaves no chain of the cluster: the launcher ran --cleanup.
    if (process.getuid?.() === 0) {
      const { suffix } = chainNames(this.cluster);
      for (const table of ["nat", "filter"])
        assert.ok(
          !execFileSync("iptables-save", ["-t", table], { encoding: "utf8" }).includes(suffix),
          `no ${table} chain of cluster ${this.cluster} left\n${this.failed()}`,
        );
    }
  }

  async cleanup(): Promise<void> {
    await this.client?.close();
    killGroup(this.child?.pid);
    for (const pid of this.pids()) killGroup(pid);
    await removeClusterObjects(this.cluster);
    rmSync(this.state, { recursive: true, force: true });
  }
}

describe("npm run up", () => {
  const runs: UpRun[] = [];
  after(async () => {
    for (const r of runs) await r.cleanup();
  });

  test("SIGTERM stops every process it started, the pods' containers and the cluster network", async () => {
    const run = new UpRun();
    runs.push(run);
    const c = run.spawn(run.args());
    const exited = new Promise<number | null>((resolve) => c.once("exit", (code) => resolve(code)));
    const started = await run.untilPodRunning();
    await run.assertIdentities();

    c.kill("SIGTERM");
    const code = await Promise.race([
      exited,
      new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), STOP_MS).unref()),
    ]);
    assert.equal(code, 0, run.failed());
    await run.assertAllGone(started);
  });

  test("its parent process exiting stops it all the same, pods' containers and network included", async () => {
    const run = new UpRun();
    runs.push(run);
    // A parent that starts the launcher and is then killed, passing no signal on (as npm does on
    // SIGTERM). The launcher inherits its stdout, so its output still reaches us.
    const parent = run.spawn([
      "-e",
      `const l = require("node:child_process").spawn(process.execPath, JSON.parse(process.argv[1]), { stdio: "inherit" });
       console.log("launcher pid " + l.pid);`,
      JSON.stringify(run.args()),
    ]);
    const launcher = await waitFor(() => /launcher pid (\d+)/.exec(run.out)?.[1], { message: "the launcher's pid" });
    const started = [Number(launcher), ...(await run.untilPodRunning())];

    // The parent dies; as soon as the launcher says it is stopping, a SIGHUP follows (a terminal
    // closing sends it too): a second reason to stop must not cut the stop short.
    const hupped = new Promise<void>((resolve) => {
      const onData = () => {
        if (!/stopping \(the launcher's parent process exited\)/.test(run.out)) return;
        parent.stdout?.off("data", onData);
        process.kill(Number(launcher), "SIGHUP");
        resolve();
      };
      parent.stdout?.on("data", onData);
    });
    parent.kill("SIGKILL");
    await hupped;
    await waitFor(() => !alive(Number(launcher)), {
      timeoutMs: STOP_MS,
      intervalMs: 200,
      message: `the launcher to exit\n${run.failed()}`,
    });
    await run.assertAllGone(started);
    assert.match(run.out, /SIGHUP: shutdown already in progress/, run.failed());
  });
});
