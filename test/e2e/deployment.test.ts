// Deployments on a real cluster: API server, scheduler, two kubelets on Docker and two
// kubeling-controller-manager processes (leader election), driven by the real kubectl.
// A 4-replica Deployment spreads over both nodes and heals (pod deleted, container removed behind
// the kubelet's back), scales 4 → 8 → 2; `kubectl set image` rolls out within maxSurge and
// maxUnavailable (sampled from a watch of the pods), `rollout history|undo|status`, `describe`;
// an image that cannot be pulled stops at ProgressDeadlineExceeded with the old pods serving;
// the leader killed mid-rollout, the standby finishes it with no extra pods.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { DEPLOYMENTS, NAMESPACES, PODDISRUPTIONBUDGETS, PODS, REPLICASETS } from "#pkg/api/resources.js";
import type { Deployment, ReplicaSet } from "#pkg/api/types/apps.js";
import type { Pod } from "#pkg/api/types/core.js";
import type { PodDisruptionBudget } from "#pkg/api/types/policy.js";
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE } from "../../kubelet/runtime/runtime.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { BUSYBOX_IMAGE } from "../harness/images.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { clusterContainers, docker } from "../harness/kubelet.js";
import { type DeploymentOptions, deployment as newDeployment } from "../harness/objects.js";
import { waitFor } from "../harness/wait.js";

const NS = "default";
/** A second tag of the local busybox image, so `set image` changes the template without a pull. */
const BUSYBOX_V2 = "kubeling.local/busybox:e2e-v2";
const LEADER = 'leader_election_master_status{name="kube-controller-manager"}';
const CM_ARGS = [
  "--leader-elect=true",
  "--leader-elect-lease-duration=4s",
  "--leader-elect-renew-deadline=3s",
  "--leader-elect-retry-period=500ms",
];

/** A Deployment of busybox sleeping in container "app". */
const deployment = (name: string, replicas: number, o: DeploymentOptions = {}): Deployment =>
  newDeployment(name, replicas, {
    ...o,
    container: "app",
    image: BUSYBOX_IMAGE,
    // busybox's sleep as PID 1 ignores SIGTERM: a short grace keeps scale-downs quick.
    terminationGracePeriodSeconds: 1,
  });

const isActive = (p: Pod) =>
  !p.metadata?.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";
const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/**
 * Watches the pods of app=<name> from now on and keeps the highest count of active pods and the
 * lowest count of active Ready pods seen after every event; stop() ends the watch.
 */
async function samplePods(c: TestCluster, name: string) {
  const list = await c.client.list<Pod>(PODS, NS, { labelSelector: `app=${name}` });
  const pods = new Map(list.items.map((p) => [p.metadata?.name ?? "", p]));
  const count = () => {
    const active = [...pods.values()].filter(isActive);
    return { active: active.length, ready: active.filter(isReady).length };
  };
  const first = count();
  const seen = { maxActive: first.active, minReady: first.ready, events: 0 };
  const abort = new AbortController();
  const opts = { labelSelector: `app=${name}`, resourceVersion: list.metadata.resourceVersion ?? "0" };
  const done = (async () => {
    for await (const ev of c.client.watch<Pod>(PODS, NS, opts, abort.signal)) {
      const key = ev.object.metadata?.name ?? "";
      if (ev.type === "DELETED") pods.delete(key);
      else pods.set(key, ev.object);
      const now = count();
      seen.maxActive = Math.max(seen.maxActive, now.active);
      seen.minReady = Math.min(seen.minReady, now.ready);
      seen.events++;
    }
  })();
  return {
    seen,
    current: count,
    async stop() {
      abort.abort();
      await done;
    },
  };
}

describe("Deployments on two kubelets with two controller-managers", () => {
  let c: TestCluster;
  const cms: TestControllerManager[] = [];
  let kubectl: Kubectl;

  const getDeploy = (name: string) => c.client.get<Deployment>(DEPLOYMENTS, NS, name);
  const activePods = async (name: string) =>
    (await c.client.list<Pod>(PODS, NS, { labelSelector: `app=${name}` })).items.filter(isActive);
  const replicaSets = async (name: string) =>
    (await c.client.list<ReplicaSet>(REPLICASETS, NS, { labelSelector: `app=${name}` })).items;

  /** The Deployment's status says every replica is updated and available, and nothing else runs. */
  async function waitRolledOut(name: string, replicas: number, timeoutMs = 120_000): Promise<Deployment> {
    return waitFor(
      async () => {
        const d = await getDeploy(name);
        const s = d.status;
        const done =
          (s?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
          s?.replicas === replicas &&
          s?.updatedReplicas === replicas &&
          s?.availableReplicas === replicas &&
          (await activePods(name)).length === replicas;
        return done && d;
      },
      { timeoutMs, intervalMs: 200, message: `deployment ${name} rolled out with ${replicas} replicas` },
    );
  }

  async function leader(): Promise<TestControllerManager> {
    return waitFor(
      async () => {
        for (const cm of cms) {
          if (cm.proc.exited() !== undefined) continue;
          const body = (await cm.get("/metrics")).body;
          if (body.split("\n").some((l) => l === `${LEADER} 1`)) return cm;
        }
        return undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, message: "a leading controller-manager" },
    );
  }

  before(async () => {
    c = await startCluster();
    const image = await docker.getImage(BUSYBOX_IMAGE).inspect();
    await docker.getImage(image.Id).tag({ repo: "kubeling.local/busybox", tag: "e2e-v2" });
    for (let i = 0; i < 2; i++) {
      // get("/metrics") with the API server's admin token (system:masters): the secure port asks for one.
      cms.push(
        await startControllerManager({
          kubeconfigPath: c.kubeconfigPath,
          credentials: { token: c.api.token },
          extraArgs: CM_ARGS,
        }),
      );
    }
    await leader();
    kubectl = kubectlFor(c.kubeconfigPath);
  });

  after(async () => {
    kubectl?.close();
    await Promise.all(cms.map((cm) => cm.stop()));
    await c?.stop();
    await docker
      .getImage(BUSYBOX_V2)
      .remove()
      .catch(() => undefined);
  });

  test("a 4-replica Deployment spreads over both nodes and comes back after a pod or container is lost", async () => {
    await c.client.create(DEPLOYMENTS, NS, deployment("web", 4));
    await waitRolledOut("web", 4);
    const pods = await activePods("web");
    assert.deepEqual(new Set(pods.map((p) => p.spec?.nodeName)), new Set(["node-1", "node-2"]), "spread");
    const rs = await replicaSets("web");
    assert.equal(rs.length, 1);
    assert.ok(rs[0]?.metadata?.labels?.["pod-template-hash"], "the ReplicaSet carries pod-template-hash");
    assert.equal(rs[0]?.metadata?.annotations?.["deployment.kubernetes.io/revision"], "1");

    // A deleted pod is replaced by a new one.
    const victim = pods[0]?.metadata?.name as string;
    await c.client.delete(PODS, NS, victim);
    await waitFor(
      async () => {
        const now = await activePods("web");
        return now.length === 4 && now.every(isReady) && !now.some((p) => p.metadata?.name === victim);
      },
      { timeoutMs: 60_000, intervalMs: 200, message: "4 ready pods again after a pod delete" },
    );

    // A container removed behind the kubelet's back is started again.
    const target = (await activePods("web"))[0] as Pod;
    const [app] = (await clusterContainers(c.clusterName, target.spec?.nodeName)).filter(
      (ct) => ct.Labels?.[LABEL_POD_NAME] === target.metadata?.name && ct.Labels?.[LABEL_CONTAINER_NAME] === "app",
    );
    assert.ok(app, `the app container of ${target.metadata?.name} in Docker`);
    await docker.getContainer(app.Id).remove({ force: true });
    await waitFor(
      async () => {
        const p = await c.client.get<Pod>(PODS, NS, target.metadata?.name as string);
        const st = p.status?.containerStatuses?.find((s) => s.name === "app");
        return (st?.restartCount ?? 0) >= 1 && st?.ready === true;
      },
      { timeoutMs: 60_000, intervalMs: 200, message: "the removed container restarted and ready" },
    );
    await waitRolledOut("web", 4);
  });

  test("kubectl scale: 4 → 8 → 2 converges", async () => {
    assert.match(await kubectl.ok(["scale", "deployment/web", "--replicas=8"]), /deployment.apps\/web scaled/);
    await waitRolledOut("web", 8);
    await kubectl.ok(["scale", "deployment", "web", "--replicas=2"]);
    await waitRolledOut("web", 2);
    const rs = await replicaSets("web");
    assert.equal(rs.length, 1, "scaling makes no new ReplicaSet");
    assert.equal(rs[0]?.spec?.replicas, 2);
  });

  test("kubectl drain evicts a node's pods, refusing while a PodDisruptionBudget forbids", async () => {
    const pods = await activePods("web");
    const node = pods[0]?.spec?.nodeName as string;
    const onNode = pods.filter((p) => p.spec?.nodeName === node).map((p) => p.metadata?.name);
    await c.client.create(PODDISRUPTIONBUDGETS, NS, {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "web", namespace: NS },
      spec: { minAvailable: pods.length, selector: { matchLabels: { app: "web" } } },
    });
    const budget = () => c.client.get<PodDisruptionBudget>(PODDISRUPTIONBUDGETS, NS, "web");
    await waitFor(async () => (await budget()).status?.currentHealthy === pods.length, {
      timeoutMs: 30_000,
      message: "the budget's status counts the healthy pods",
    });
    const refused = await kubectl.run(["drain", node, "--ignore-daemonsets", "--timeout=8s"], { timeoutMs: 60_000 });
    assert.notEqual(refused.code, 0, refused.stdout);
    assert.match(refused.stderr, /Cannot evict pod as it would violate the pod's disruption budget/);
    assert.deepEqual(
      (await activePods("web")).map((p) => p.metadata?.name).sort(),
      pods.map((p) => p.metadata?.name).sort(),
      "no pod was evicted",
    );

    await c.client.patch(PODDISRUPTIONBUDGETS, NS, "web", { spec: { minAvailable: null, maxUnavailable: 1 } }, "merge");
    const out = await kubectl.ok(["drain", node, "--ignore-daemonsets", "--timeout=120s"], { timeoutMs: 130_000 });
    for (const name of onNode) assert.match(out, new RegExp(`pod/${name} evicted`));
    assert.match(out, new RegExp(`node/${node} drained`));
    await waitRolledOut("web", pods.length);
    assert.ok(
      (await activePods("web")).every((p) => p.spec?.nodeName !== node),
      "nothing left on the drained node",
    );
    await kubectl.ok(["uncordon", node]);
    await c.client.delete(PODDISRUPTIONBUDGETS, NS, "web");
  });

  test("kubectl set image and rollout status: a rolling update within maxSurge and maxUnavailable", async () => {
    await c.client.create(DEPLOYMENTS, NS, deployment("roll", 4, { maxSurge: 1, maxUnavailable: 1 }));
    await waitRolledOut("roll", 4);
    const sampler = await samplePods(c, "roll");
    try {
      assert.match(
        await kubectl.ok(["set", "image", "deployment/roll", `app=${BUSYBOX_V2}`]),
        /deployment.apps\/roll image updated/,
      );
      const out = await kubectl.ok(["rollout", "status", "deployment/roll", "--timeout=120s"], { timeoutMs: 130_000 });
      assert.match(out, /deployment "roll" successfully rolled out/);
      await waitRolledOut("roll", 4);
    } finally {
      await sampler.stop();
    }
    assert.ok(sampler.seen.events > 0, "the watch saw the rollout");
    assert.ok(sampler.seen.maxActive <= 5, `pods never above replicas + maxSurge (saw ${sampler.seen.maxActive})`);
    assert.ok(
      sampler.seen.minReady >= 3,
      `ready pods never below replicas - maxUnavailable (saw ${sampler.seen.minReady})`,
    );
    const pods = await activePods("roll");
    assert.ok(
      pods.every((p) => p.spec?.containers[0]?.image === BUSYBOX_V2),
      "every pod runs the new image",
    );
    const d = await getDeploy("roll");
    assert.equal(d.metadata?.annotations?.["deployment.kubernetes.io/revision"], "2");
    const rs = await replicaSets("roll");
    assert.equal(rs.length, 2);
    assert.deepEqual(rs.map((r) => r.spec?.replicas).sort(), [0, 4], "the old ReplicaSet scaled to 0");
  });

  test("kubectl rollout history and rollout undo restore the previous template", async () => {
    const history = await kubectl.ok(["rollout", "history", "deployment/roll"]);
    assert.match(history, /REVISION\s+CHANGE-CAUSE/);
    assert.match(history, /^1\s/m);
    assert.match(history, /^2\s/m);
    assert.match(await kubectl.ok(["rollout", "undo", "deployment/roll"]), /deployment.apps\/roll rolled back/);
    await kubectl.ok(["rollout", "status", "deployment/roll", "--timeout=120s"], { timeoutMs: 130_000 });
    await waitRolledOut("roll", 4);
    const pods = await activePods("roll");
    assert.ok(
      pods.every((p) => p.spec?.containers[0]?.image === BUSYBOX_IMAGE),
      "the old image is back",
    );
    const d = await getDeploy("roll");
    assert.equal(d.metadata?.annotations?.["deployment.kubernetes.io/revision"], "3");
    assert.equal((await replicaSets("roll")).length, 2, "undo reuses the old ReplicaSet");
  });

  test("kubectl describe deployment tells the story", async () => {
    const out = await kubectl.ok(["describe", "deployment", "roll"]);
    assert.match(out, /^Name:\s+roll$/m);
    assert.match(out, /^Replicas:\s+4 desired \| 4 updated \| 4 total \| 4 available \| 0 unavailable$/m);
    assert.match(out, /^StrategyType:\s+RollingUpdate$/m);
    assert.match(out, /NewReplicaSet:\s+roll-\w+ \(4\/4 replicas created\)/);
    assert.match(out, /ScalingReplicaSet/);
  });

  test("an image that cannot be pulled stops at ProgressDeadlineExceeded with the old pods serving", async () => {
    await c.client.create(DEPLOYMENTS, NS, deployment("stuck", 2, { progressDeadlineSeconds: 8 }));
    await waitRolledOut("stuck", 2);
    await kubectl.ok(["set", "image", "deployment/stuck", "app=kubeling.local/does-not-exist:1"]);
    const r = await kubectl.run(["rollout", "status", "deployment/stuck", "--timeout=90s"], { timeoutMs: 100_000 });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /deployment "stuck" exceeded its progress deadline/);
    const d = await getDeploy("stuck");
    const progressing = d.status?.conditions?.find((x) => x.type === "Progressing");
    assert.equal(progressing?.status, "False");
    assert.equal(progressing?.reason, "ProgressDeadlineExceeded");
    const old = (await activePods("stuck")).filter((p) => p.spec?.containers[0]?.image === BUSYBOX_IMAGE);
    assert.equal(old.filter(isReady).length, 2, "the old pods still serve");
  });

  test("kubectl delete namespace removes its Deployment, pods and containers, and returns", async () => {
    await kubectl.ok(["create", "namespace", "doomed"]);
    const d = deployment("inner", 2);
    d.metadata.namespace = "doomed";
    await c.client.create(DEPLOYMENTS, "doomed", d);
    await waitFor(
      async () => (await c.client.get<Deployment>(DEPLOYMENTS, "doomed", "inner")).status?.availableReplicas === 2,
      { timeoutMs: 60_000, intervalMs: 200, message: "doomed/inner available" },
    );
    const inNamespace = async () =>
      (await clusterContainers(c.clusterName)).filter((ct) => ct.Labels?.[LABEL_POD_NAMESPACE] === "doomed");
    assert.ok((await inNamespace()).length > 0);
    // kubectl waits for the namespace to be gone (the namespace controller empties it first).
    assert.match(
      await kubectl.ok(["delete", "namespace", "doomed", "--timeout=90s"], { timeoutMs: 100_000 }),
      /namespace "doomed" deleted/,
    );
    const left = await c.client.list(NAMESPACES, undefined);
    assert.ok(!left.items.some((n) => n.metadata?.name === "doomed"), "the namespace is gone");
    await waitFor(async () => (await inNamespace()).length === 0, {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: "the namespace's containers removed by the kubelets",
    });
  });

  test("the leader killed mid-rollout: the other controller-manager finishes it with no extra pods", async () => {
    await c.client.create(
      DEPLOYMENTS,
      NS,
      deployment("failover", 4, { maxSurge: 1, maxUnavailable: 0, minReadySeconds: 2 }),
    );
    await waitRolledOut("failover", 4);
    const sampler = await samplePods(c, "failover");
    try {
      const first = await leader();
      await kubectl.ok(["set", "image", "deployment/failover", `app=${BUSYBOX_V2}`]);
      // Mid-rollout: the new ReplicaSet has pods and the old one still has some.
      await waitFor(
        async () => {
          const pods = await activePods("failover");
          const fresh = pods.filter((p) => p.spec?.containers[0]?.image === BUSYBOX_V2).length;
          return fresh >= 1 && fresh < 4;
        },
        { timeoutMs: 60_000, intervalMs: 100, message: "the rollout under way" },
      );
      first.proc.child.kill("SIGKILL");
      await first.stop();
      const second = await leader();
      assert.notEqual(second, first);
      await waitRolledOut("failover", 4);
    } finally {
      await sampler.stop();
    }
    assert.ok(sampler.seen.maxActive <= 5, `never more than replicas + maxSurge pods (saw ${sampler.seen.maxActive})`);
    assert.ok(sampler.seen.minReady >= 4, `never below replicas - maxUnavailable ready (saw ${sampler.seen.minReady})`);
    const pods = await activePods("failover");
    assert.equal(pods.length, 4);
    assert.ok(pods.every((p) => p.spec?.containers[0]?.image === BUSYBOX_V2));
  });
});
