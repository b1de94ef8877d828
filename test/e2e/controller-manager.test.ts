// kubeling-controller-manager as a process (controller-manager/main.ts) against the real API
// server: --help, /healthz /readyz /metrics, the ServiceAccount controller (a new namespace gets
// its default ServiceAccount, a deleted one comes back), two replicas with leader election (one
// leads; the other takes over within the lease duration when the leader is killed), SIGTERM.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { LEASES, NAMESPACES, SERVICEACCOUNTS } from "#pkg/api/resources.js";
import type { Lease, Namespace, ServiceAccount } from "#pkg/api/types/index.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { waitFor } from "../harness/wait.js";

const BIN = fileURLToPath(new URL("../../bin/kubeling-controller-manager.js", import.meta.url));
const LEADER = 'leader_election_master_status{name="kube-controller-manager"}';
// Short periods so a takeover after a kill is seconds, not 15 s.
const LEASE_SECONDS = 4;
const LE = [
  "--leader-elect=true",
  `--leader-elect-lease-duration=${LEASE_SECONDS}s`,
  "--leader-elect-renew-deadline=3s",
  "--leader-elect-retry-period=500ms",
];

function metric(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(" ").pop());
}

async function leading(p: TestControllerManager): Promise<boolean> {
  return metric((await p.get("/metrics")).body, LEADER) === 1;
}

describe("kubeling-controller-manager process", () => {
  let server: TestApiServer;
  /** The secure port's /metrics wants credentials: the API server's admin token (system:masters). */
  let credentials: { token: string };
  const procs: TestControllerManager[] = [];
  before(async () => {
    server = await startApiServer();
    credentials = { token: server.token };
  });
  after(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await server?.stop();
  });

  test("--help lists the flags", () => {
    const r = spawnSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    for (const flag of [
      "--kubeconfig",
      "--controllers",
      "--concurrent-syncs",
      "--concurrent-deployment-syncs",
      "--concurrent-gc-syncs",
      "--node-monitor-grace-period",
      "--leader-elect",
      "--leader-elect-lease-duration",
      "--leader-elect-resource-name",
      "--bind-address",
      "--secure-port",
      "--log-level",
    ]) {
      assert.ok(r.stdout.includes(flag), `--help mentions ${flag}`);
    }
    const bad = spawnSync(process.execPath, [BIN, "--controllers=*,-nope"], { encoding: "utf8" });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /"nope" is not in the list of known controllers: .*serviceaccount/);
  });

  test("two replicas: one leads and keeps every namespace's default ServiceAccount; the other takes over", async () => {
    const client = server.client;
    const a = await startControllerManager({ kubeconfigPath: server.kubeconfigPath, credentials, extraArgs: LE });
    const b = await startControllerManager({ kubeconfigPath: server.kubeconfigPath, credentials, extraArgs: LE });
    procs.push(a, b);
    const leader = await waitFor(
      async () => {
        const [la, lb] = [await leading(a), await leading(b)];
        return la !== lb ? (la ? a : b) : undefined;
      },
      { timeoutMs: 30_000, message: "exactly one leader" },
    );
    const follower = leader === a ? b : a;
    for (const p of [a, b]) {
      assert.equal((await p.get("/healthz")).body, "ok");
      await waitFor(async () => (await p.get("/readyz")).status === 200, { timeoutMs: 30_000, message: "readyz" });
    }
    const lease = await client.get<Lease>(LEASES, "kube-system", "kube-controller-manager");
    assert.ok(lease.spec?.holderIdentity, "the Lease has a holder");

    await client.create<Namespace>(NAMESPACES, undefined, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "cm-e2e" },
    });
    const sa = () => client.get<ServiceAccount>(SERVICEACCOUNTS, "cm-e2e", "default");
    const first = await waitFor(sa, { timeoutMs: 20_000, message: "cm-e2e/default created" });
    await client.delete(SERVICEACCOUNTS, "cm-e2e", "default");
    await waitFor(async () => (await sa()).metadata.uid !== first.metadata.uid, {
      timeoutMs: 20_000,
      message: "cm-e2e/default created again",
    });
    const m = (await leader.get("/metrics")).body;
    assert.ok((metric(m, 'workqueue_adds_total{name="serviceaccount"}') ?? 0) >= 2, "workqueue metrics of the leader");
    assert.equal(
      metric((await follower.get("/metrics")).body, 'workqueue_adds_total{name="serviceaccount"}'),
      undefined,
    );

    // Killed, the leader cannot release the Lease: the follower waits for it to expire.
    leader.proc.child.kill("SIGKILL");
    const killedAt = Date.now();
    await waitFor(() => leading(follower), { timeoutMs: 30_000, intervalMs: 100, message: "the follower to lead" });
    const took = Date.now() - killedAt;
    // Expiry is observed on the follower's own clock from its last sight of a renewal, plus a retry period
    // with jitter: within two lease durations on a busy machine.
    assert.ok(took < 2 * LEASE_SECONDS * 1000 + 2_000, `takeover after ${took} ms`);
    await client.delete(SERVICEACCOUNTS, "cm-e2e", "default");
    await waitFor(sa, { timeoutMs: 20_000, message: "the new leader recreates cm-e2e/default" });

    assert.equal(await follower.stop(), "0", follower.proc.output());
    const released = await client.get<Lease>(LEASES, "kube-system", "kube-controller-manager");
    assert.ok(!released.spec?.holderIdentity, "SIGTERM releases the Lease");
  });

  test("--leader-elect=false runs the controllers at once; SIGTERM exits 0", async () => {
    const p = await startControllerManager({
      kubeconfigPath: server.kubeconfigPath,
      credentials,
      extraArgs: ["--leader-elect=false", "--concurrent-syncs=1"],
    });
    procs.push(p);
    await waitFor(async () => (await p.get("/readyz")).status === 200, { timeoutMs: 30_000, message: "readyz" });
    assert.equal(metric((await p.get("/metrics")).body, LEADER), 1);
    await server.client.create<Namespace>(NAMESPACES, undefined, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "cm-e2e-2" },
    });
    await waitFor(() => server.client.get<ServiceAccount>(SERVICEACCOUNTS, "cm-e2e-2", "default"), {
      timeoutMs: 20_000,
      message: "cm-e2e-2/default",
    });
    assert.equal(await p.stop(), "0", p.proc.output());
  });
});
