// kubeling-scheduler as a process (bin/kubeling-scheduler.js) against the real API server:
// flags and --help, /healthz /readyz /metrics, JSON logs naming the pod, two replicas with
// leader election binding each pod exactly once, a second scheduler name, SIGTERM shutdown.

import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { EVENTS, NODES, PODS } from "#pkg/api/resources.js";
import type { Event, Node, Pod } from "#pkg/api/types/index.js";
import type { ApiClient } from "#pkg/client/client.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { httpsGet } from "../harness/https.js";
import { freePort } from "../harness/ports.js";
import { waitFor } from "../harness/wait.js";

const BIN = fileURLToPath(new URL("../../bin/kubeling-scheduler.js", import.meta.url));

interface Proc {
  port: number;
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  get(path: string): Promise<{ status: number; body: string }>;
  stop(): Promise<number | null>;
}

/** The secure port's /metrics wants credentials: the test API server's admin token. */
async function startScheduler(kubeconfig: string, token: string, args: string[]): Promise<Proc> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [BIN, `--kubeconfig=${kubeconfig}`, "--bind-address=127.0.0.1", `--secure-port=${port}`, ...args],
    { env: { ...process.env, LOG_FORMAT: "json", LOG_LEVEL: "info" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-200_000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const get = async (path: string) => {
    const r = await httpsGet(`https://127.0.0.1:${port}${path}`, { token });
    return { status: r.status, body: r.body };
  };
  return {
    port,
    child,
    output: () => out,
    exited,
    get,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}

function metric(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(name));
  if (!line) throw new Error(`metric ${name} missing`);
  return Number(line.split(" ").pop());
}

async function createNode(client: ApiClient, name: string): Promise<void> {
  const amounts = { cpu: "4", memory: "8Gi", pods: "110" };
  await client.create<Node>(NODES, undefined, {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name } },
    status: { capacity: amounts, allocatable: amounts, conditions: [{ type: "Ready", status: "True" }] },
  });
}

async function createPod(client: ApiClient, name: string, schedulerName?: string): Promise<void> {
  await client.create<Pod>(PODS, "default", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default" },
    spec: {
      containers: [{ name: "c", image: "busybox", resources: { requests: { cpu: "100m" } } }],
      ...(schedulerName ? { schedulerName } : {}),
    },
  });
}

async function nodeOf(client: ApiClient, name: string): Promise<string | undefined> {
  return (await client.get<Pod>(PODS, "default", name)).spec?.nodeName || undefined;
}

describe("kubeling-scheduler process", () => {
  let server: TestApiServer;
  const procs: Proc[] = [];
  before(async () => {
    server = await startApiServer();
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await server?.stop();
  });

  test("--help lists the flags", () => {
    const r = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    for (const flag of ["--kubeconfig", "--leader-elect", "--scheduler-name", "--secure-port"]) {
      assert.ok(r.stdout.includes(flag), `--help mentions ${flag}`);
    }
  });

  test("two replicas: one leads and binds each pod once; the other takes over on SIGTERM", async () => {
    const client = server.client;
    const le = [
      "--leader-elect-lease-duration=4s",
      "--leader-elect-renew-deadline=3s",
      "--leader-elect-retry-period=1s",
    ];
    const a = await startScheduler(server.kubeconfigPath, server.token, ["--leader-elect=true", ...le]);
    const b = await startScheduler(server.kubeconfigPath, server.token, ["--leader-elect", ...le]);
    procs.push(a, b);
    for (const p of [a, b]) {
      await waitFor(async () => (await p.get("/healthz")).body === "ok", { timeoutMs: 30_000, message: "healthz" });
      await waitFor(async () => (await p.get("/readyz")).status === 200, { timeoutMs: 30_000, message: "readyz" });
    }
    await createNode(client, "e2e-node-1");
    await createNode(client, "e2e-node-2");
    for (let i = 0; i < 10; i++) await createPod(client, `e2e-${i}`);
    for (let i = 0; i < 10; i++) {
      await waitFor(() => nodeOf(client, `e2e-${i}`), { timeoutMs: 30_000, message: `e2e-${i} bound` });
    }
    const ma = (await a.get("/metrics")).body;
    const mb = (await b.get("/metrics")).body;
    const leaders = [ma, mb].map((m) => metric(m, 'leader_election_master_status{name="kube-scheduler"}'));
    assert.deepEqual(leaders.sort(), [0, 1]);
    const okA = metric(ma, 'scheduler_binding_total{result="ok"}');
    const okB = metric(mb, 'scheduler_binding_total{result="ok"}');
    assert.equal(okA + okB, 10);
    assert.ok(okA === 0 || okB === 0, `only the leader binds (a=${okA}, b=${okB})`);
    const events = (await client.list<Event>(EVENTS, "default")).items.filter((e) => e.reason === "Scheduled");
    for (let i = 0; i < 10; i++) {
      assert.equal(events.filter((e) => e.involvedObject?.name === `e2e-${i}`).length, 1, `e2e-${i} Scheduled once`);
    }
    const leader = okA > 0 ? a : b;
    const follower = leader === a ? b : a;
    // Structured logs carry the pod's namespace/name.
    const bound = leader
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { msg?: string; pod?: string; node?: string })
      .filter((l) => l.msg === "bound pod to node");
    assert.ok(
      bound.some((l) => l.pod === "default/e2e-0" && l.node?.startsWith("e2e-node-")),
      "log names the pod",
    );

    assert.equal(await leader.stop(), 0);
    await waitFor(
      async () =>
        metric((await follower.get("/metrics")).body, 'leader_election_master_status{name="kube-scheduler"}') === 1,
      { timeoutMs: 20_000, message: "the follower to take over" },
    );
    await createPod(client, "after-failover");
    await waitFor(() => nodeOf(client, "after-failover"), { timeoutMs: 20_000, message: "after-failover bound" });
  });

  test("--scheduler-name picks only its own pods", async () => {
    const client = server.client;
    await createPod(client, "custom-1", "custom-scheduler");
    const custom = await startScheduler(server.kubeconfigPath, server.token, [
      "--scheduler-name=custom-scheduler",
      "--leader-elect=false",
    ]);
    procs.push(custom);
    await waitFor(() => nodeOf(client, "custom-1"), { timeoutMs: 30_000, message: "custom-1 bound" });
    const m = (await custom.get("/metrics")).body;
    assert.equal(metric(m, 'scheduler_binding_total{result="ok"}'), 1);
    assert.equal(await custom.stop(), 0);
  });
});
