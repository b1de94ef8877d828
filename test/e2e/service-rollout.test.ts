// Traffic follows readiness and survives a rolling update (issue 9's Done-means), on real
// Docker: two kubelets, the real controller-manager (Deployment, ReplicaSet, EndpointSlice
// controllers) and kubeling-proxy in iptables mode. A 3-replica Deployment answers its hostname
// on 8080 and is Ready while /tmp/ready exists (its readiness probe GETs /ready, which checks the
// file), behind a NodePort Service reached from the host at 127.0.0.1:<nodePort>.
// 1. Removing one pod's /tmp/ready (docker exec) takes it out of the slices' ready set (watched)
//    and out of rotation; touching it again brings it back.
// 2. A rolling update (preStop `sleep 5`, as users do, and a grace period to cover it) while four
//    clients loop requests on new connections through the node port: not one request fails, and
//    once the rollout is done every answer comes from a new pod.

import assert from "node:assert/strict";
import { after, before, describe, type TestContext, test } from "node:test";
import { DEPLOYMENTS, ENDPOINTSLICES, PODS, SERVICES } from "#pkg/api/resources.js";
import type { Deployment } from "#pkg/api/types/apps.js";
import { type EndpointSlice, LABEL_SERVICE_NAME } from "#pkg/api/types/discovery.js";
import type { Pod, Service } from "#pkg/api/types/index.js";
import { CONTROLLER_MANAGER_USER } from "#pkg/pki/cluster.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { execIn } from "../harness/kubelet.js";
import { isReady, type LoopAnswer, podContainer, requestLoop, spread } from "../harness/services.js";
import { waitFor } from "../harness/wait.js";
import { watchUntil } from "../harness/watch.js";

const NS = "default";
const NODE_IMAGE = "kubeling.local/node:20";
const READY_FILE = "/tmp/ready";
/**
 * The hostname on every path but /ready, which is 200 while READY_FILE exists. On SIGTERM it stops
 * accepting and lets open connections finish (what a well-behaved server does).
 */
const SERVER = [
  "const http = require('http'), fs = require('fs'), os = require('os');",
  `fs.writeFileSync('${READY_FILE}', '');`,
  "const srv = http.createServer((q, s) => {",
  `  if (q.url === '/ready') { s.statusCode = fs.existsSync('${READY_FILE}') ? 200 : 503; return s.end(); }`,
  "  s.end(os.hostname());",
  "}).listen(8080);",
  "process.on('SIGTERM', () => { srv.close(() => process.exit(0)); srv.closeIdleConnections(); });",
].join(" ");

const WEB: Deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: NS },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        // Room for the preStop sleep and the server's own shutdown.
        terminationGracePeriodSeconds: 20,
        containers: [
          {
            name: "web",
            image: NODE_IMAGE,
            imagePullPolicy: "IfNotPresent",
            command: ["node", "-e", SERVER],
            readinessProbe: { httpGet: { path: "/ready", port: 8080 }, periodSeconds: 1, failureThreshold: 2 },
            // Keeps serving while the endpoint controllers and kube-proxy take the pod out.
            lifecycle: { preStop: { exec: { command: ["sleep", "5"] } } },
          },
        ],
      },
    },
  },
};

const SLICES = { labelSelector: `${LABEL_SERVICE_NAME}=web` };

/** Each pod of the slices (by targetRef) and whether its endpoint is ready. */
function sliceReadiness(slices: EndpointSlice[]): Map<string, boolean> {
  const m = new Map<string, boolean>();
  for (const s of slices)
    for (const ep of s.endpoints ?? []) {
      const name = ep.targetRef?.name;
      if (name) m.set(name, m.get(name) === true || (ep.conditions?.ready ?? true));
    }
  return m;
}

describe("Service traffic follows readiness and survives a rolling update (iptables)", { timeout: 600_000 }, () => {
  let c: TestCluster;
  let cm: TestControllerManager;
  let nodePort = 0;

  /** The n Ready web pods once exactly n exist (none terminating either). */
  const readyPods = (n: number, timeoutMs = 120_000): Promise<Pod[]> =>
    watchUntil<Pod>(c.client, PODS, NS, (ps) => ps.length === n && ps.every(isReady), {
      labelSelector: "app=web",
      timeoutMs,
      message: `exactly ${n} Ready web pods`,
    });

  before(async () => {
    c = await startCluster({ proxy: { mode: "iptables" } });
    cm = await startControllerManager({
      kubeconfigPath: await c.api.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
      clientCAFile: c.api.pki.caCert,
      extraArgs: ["--leader-elect=false"],
    });
    await c.client.create(DEPLOYMENTS, NS, WEB);
    const svc = await c.client.create<Service>(SERVICES, NS, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: NS },
      spec: { type: "NodePort", selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }] },
    });
    nodePort = svc.spec?.ports?.[0]?.nodePort as number;
    await readyPods(3);
    await waitFor(async () => (await spread("127.0.0.1", nodePort, 60)).size === 3, {
      timeoutMs: 20_000,
      intervalMs: 200,
      message: "all 3 pods answer on the node port",
    });
  });

  after(async () => {
    await cm?.stop();
    await c?.stop();
  });

  /** A test bounded in time that fails with the components' recent logs. */
  const t = (name: string, fn: (ctx: TestContext) => Promise<void>) =>
    test(name, { timeout: 180_000 }, async (ctx) => {
      try {
        await fn(ctx);
      } catch (err) {
        throw new Error(
          `${(err as Error).message}\n${c.logs()}\n--- controller-manager ---\n${cm.proc.output().slice(-3000)}`,
          {
            cause: err,
          },
        );
      }
    });

  t("a pod failing its readiness probe leaves the slices and gets no traffic; it returns when it passes", async () => {
    const pods = await readyPods(3);
    const victim = pods[0]?.metadata.name as string;
    const others = new Set(pods.slice(1).map((p) => p.metadata.name as string));
    const container = await podContainer(c.clusterName, victim, "web");
    assert.ok(container, `${victim}'s container runs`);

    assert.equal((await execIn(container, ["rm", READY_FILE])).code, 0);
    const notReady = await watchUntil<EndpointSlice>(
      c.client,
      ENDPOINTSLICES,
      NS,
      (ss) => {
        const r = sliceReadiness(ss);
        return r.get(victim) === false && [...others].every((n) => r.get(n) === true);
      },
      { ...SLICES, timeoutMs: 10_000, message: `${victim} not ready in the slices, the others ready` },
    );
    const left = Date.now();
    const ep = notReady.flatMap((s) => s.endpoints ?? []).find((e) => e.targetRef?.name === victim);
    assert.deepEqual(ep?.conditions, { ready: false, serving: false, terminating: false });
    const p = await c.client.get<Pod>(PODS, NS, victim);
    assert.ok(!isReady(p), "the pod reports Ready=False");
    assert.equal(p.status?.containerStatuses?.[0]?.restartCount, 0, "a readiness failure restarts nothing");

    // Out of rotation within 2 s of leaving the ready set, then stays out.
    await waitFor(async () => !(await spread("127.0.0.1", nodePort, 20)).has(victim), {
      timeoutMs: 2000,
      intervalMs: 20,
      message: `${victim} gets no more traffic`,
    });
    assert.ok(Date.now() - left < 2000);
    const without = await spread("127.0.0.1", nodePort, 150);
    assert.deepEqual(new Set(without.keys()), others, "only the two Ready pods answer");

    assert.equal((await execIn(container, ["touch", READY_FILE])).code, 0);
    await watchUntil<EndpointSlice>(c.client, ENDPOINTSLICES, NS, (ss) => sliceReadiness(ss).get(victim) === true, {
      ...SLICES,
      timeoutMs: 10_000,
      message: `${victim} ready in the slices again`,
    });
    await waitFor(async () => (await spread("127.0.0.1", nodePort, 60)).has(victim), {
      timeoutMs: 2000,
      intervalMs: 20,
      message: `${victim} answers again`,
    });
    const back = await spread("127.0.0.1", nodePort, 150);
    assert.deepEqual(new Set(back.keys()), new Set([victim, ...others]), "all three answer again");
  });

  t(
    "a rolling update with a preStop sleep while clients loop through the node port: zero failed requests",
    async (ctx: TestContext) => {
      const old = new Set((await readyPods(3)).map((p) => p.metadata.name as string));
      const loop = requestLoop("127.0.0.1", nodePort, { workers: 4, maxMs: 150_000 });
      let answers: LoopAnswer[] = [];
      let rolledAt = 0;
      try {
        // Let the loop get going on the old pods first.
        await waitFor(() => loop.answers.length >= 50, { timeoutMs: 10_000, message: "the loop's first answers" });
        // What `kubectl rollout restart` does: a new template, so a new ReplicaSet.
        await c.client.patch(
          DEPLOYMENTS,
          NS,
          "web",
          {
            spec: {
              template: {
                metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": new Date().toISOString() } },
              },
            },
          },
          "merge",
        );
        await watchUntil<Deployment>(
          c.client,
          DEPLOYMENTS,
          NS,
          ([d]) => {
            const s = d?.status;
            return (
              !!d &&
              (s?.observedGeneration ?? 0) >= (d.metadata.generation ?? 1) &&
              s?.updatedReplicas === 3 &&
              s?.replicas === 3 &&
              s?.availableReplicas === 3
            );
          },
          { name: "web", timeoutMs: 120_000, message: "the rollout done" },
        );
        rolledAt = Date.now();
        // Until the old pods are gone: their preStop, SIGTERM and removal all happen under load.
        const now = await readyPods(3, 60_000);
        assert.ok(
          now.every((p) => !old.has(p.metadata.name as string)),
          "three new pods",
        );
        await waitFor(() => loop.answers.filter((a) => a.at > rolledAt + 1000).length >= 100, {
          timeoutMs: 20_000,
          message: "100 answers after the rollout",
        });
      } finally {
        answers = await loop.stop();
      }
      const failed = answers.filter((a) => a.error);
      const ok = answers.length - failed.length;
      ctx.diagnostic(`${answers.length} requests during the rollout, ${failed.length} failed`);
      assert.ok(ok >= 300, `the loop ran (${ok} answers)`);
      assert.deepEqual(
        failed.map((a) => `${new Date(a.at).toISOString()} ${a.error}`),
        [],
        `${failed.length} of ${answers.length} requests failed`,
      );
      // Requests started once the Deployment reported the rollout done (and the proxy's sync past).
      const late = answers.filter((a) => a.at > rolledAt + 1000);
      const fromOld = late.filter((a) => old.has(a.body as string));
      assert.deepEqual(
        fromOld.map((a) => a.body),
        [],
        "no answer from an old pod after the rollout",
      );
      const after = await spread("127.0.0.1", nodePort, 150);
      assert.equal(after.size, 3, `all three new pods answer: ${JSON.stringify([...after])}`);
      for (const name of after.keys()) assert.ok(!old.has(name), `${name} is a new pod`);
    },
  );
});
