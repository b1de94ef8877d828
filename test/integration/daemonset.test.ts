// The DaemonSet controller in a real kubeling-controller-manager (under its own identity, so the
// bootstrap RBAC roles) against a real API server and etcd, on Node objects with no kubelet
// behind them: test/harness/fake-nodes.ts binds each daemon pod to the node its affinity names
// and makes it Running and Ready. A pod GC runs in-process with a short quarantine so a deleted
// node's pods go quickly. The real kubectl reads rollout status and history and undoes.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isStatusError } from "#pkg/api/errors.js";
import { CONTROLLERREVISIONS, DAEMONSETS, NODES, PODS } from "#pkg/api/resources.js";
import type { ControllerRevision, DaemonSet } from "#pkg/api/types/apps.js";
import type { Node, Pod, Toleration } from "#pkg/api/types/core.js";
import { isPodReady } from "#pkg/controller/pod-util.js";
import { CONTROLLER_MANAGER_USER } from "#pkg/pki/cluster.js";
import { PodGCController } from "../../controller-manager/podgc/gc-controller.js";
import { runCli } from "../e2e/cli-helpers.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { type RunningController, runController } from "../harness/controllers.js";
import { FakeNodes } from "../harness/fake-nodes.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { node, podTemplate } from "../harness/objects.js";
import { watchUntil } from "../harness/watch.js";

const NS = "default";
const TAINTED = "node-3";
let srv: TestApiServer;
let cm: TestControllerManager;
let nodes: FakeNodes;
let podgc: RunningController<PodGCController>;
let kc: Kubectl;

function daemonSet(
  name: string,
  o: {
    image?: string;
    tolerations?: Toleration[];
    nodeSelector?: Record<string, string>;
    strategy?: NonNullable<DaemonSet["spec"]>["updateStrategy"];
  } = {},
): DaemonSet {
  const template = podTemplate(name, { image: o.image ?? "busybox", terminationGracePeriodSeconds: 1 });
  if (template.spec) {
    if (o.tolerations) template.spec.tolerations = o.tolerations;
    if (o.nodeSelector) template.spec.nodeSelector = o.nodeSelector;
  }
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name, namespace: NS },
    spec: {
      selector: { matchLabels: { app: name } },
      template,
      ...(o.strategy ? { updateStrategy: o.strategy } : {}),
    },
  };
}

const TOLERATE_ALL: Toleration[] = [{ key: "dedicated", operator: "Exists" }];

/** The live (not terminating) pods of app=<name> by node, from the fake nodes' cache. */
function podsByNode(name: string, pods: Pod[] = nodes.informer.list()): Map<string, Pod[]> {
  const out = new Map<string, Pod[]>();
  for (const p of pods) {
    if (p.metadata.labels?.app !== name || p.metadata.deletionTimestamp) continue;
    const n = p.spec?.nodeName ?? "<none>";
    out.set(n, [...(out.get(n) ?? []), p]);
  }
  return out;
}

/** Waits (watching) until the DaemonSet has seen its latest spec and every desired node runs an updated, available pod. */
async function rolledOut(name: string, desired: number, timeoutMs = 30_000): Promise<DaemonSet> {
  const [ds] = await watchUntil(
    srv.client,
    DAEMONSETS,
    NS,
    ([d]) => {
      const st = d?.status;
      return (
        d !== undefined &&
        (st?.observedGeneration ?? 0) >= (d.metadata.generation ?? 1) &&
        st?.desiredNumberScheduled === desired &&
        st.currentNumberScheduled === desired &&
        st.numberReady === desired &&
        (st.updatedNumberScheduled ?? 0) === desired &&
        (st.numberAvailable ?? 0) === desired &&
        st.numberMisscheduled === 0
      );
    },
    { name, timeoutMs, message: `daemon set ${name} rolled out on ${desired} nodes` },
  );
  return ds as DaemonSet;
}

/** Waits until app=<name> has exactly one ready pod on each of `want` and none elsewhere. */
async function onNodes(name: string, want: string[], timeoutMs = 20_000): Promise<Map<string, Pod[]>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const by = podsByNode(name);
    const ok =
      [...by.keys()].sort().join() === [...want].sort().join() &&
      [...by.values()].every((ps) => ps.length === 1 && ps.every(isPodReady));
    if (ok) return by;
    if (Date.now() > deadline)
      throw new Error(
        `pods of ${name}: want one ready pod on each of ${want.join(",")}, have ${JSON.stringify([...by].map(([n, ps]) => [n, ps.length, ps.filter(isPodReady).length]))}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function revisionsOf(name: string): Promise<ControllerRevision[]> {
  const list = await srv.client.list(CONTROLLERREVISIONS, NS, { labelSelector: `app=${name}` });
  return list.items.sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
}

async function setImage(name: string, image: string): Promise<void> {
  await srv.client.patch(
    DAEMONSETS,
    NS,
    name,
    { spec: { template: { spec: { containers: [{ name: "c", image }] } } } },
    "strategic",
  );
}

/**
 * Samples every pod event while fn runs: the most desired nodes seen at once without a ready,
 * live pod of app=<name>, and the most nodes holding two live pods at once.
 */
async function sampleRollout(name: string, desiredNodes: string[], fn: () => Promise<void>) {
  const seen = { maxUnavailable: 0, maxDoubled: 0, events: 0 };
  const stop = nodes.sample((pods) => {
    const by = podsByNode(name, pods);
    const unavailable = desiredNodes.filter((n) => !(by.get(n) ?? []).some(isPodReady)).length;
    const doubled = [...by.values()].filter((ps) => ps.length > 1).length;
    seen.maxUnavailable = Math.max(seen.maxUnavailable, unavailable);
    seen.maxDoubled = Math.max(seen.maxDoubled, doubled);
    seen.events++;
  });
  try {
    await fn();
  } finally {
    stop();
  }
  return seen;
}

before(async () => {
  srv = await startApiServer();
  for (const n of ["node-1", "node-2"]) await srv.client.create(NODES, undefined, node(n));
  const tainted: Node = node(TAINTED);
  tainted.spec = { taints: [{ key: "dedicated", value: "infra", effect: "NoSchedule" }] };
  await srv.client.create(NODES, undefined, tainted);
  nodes = new FakeNodes(srv.client, NS);
  await nodes.start();
  podgc = runController(srv, (ctx) => new PodGCController(ctx, { gcCheckPeriodMs: 300, quarantineMs: 500 }));
  cm = await startControllerManager({
    kubeconfigPath: await srv.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
    extraArgs: ["--leader-elect=false", "--controllers=daemonset,garbagecollector"],
  });
  kc = kubectlFor(srv.kubeconfigPath);
});

after(async () => {
  kc?.close();
  await cm?.stop();
  await podgc?.stop();
  nodes?.stop();
  await srv?.stop();
  assert.deepEqual(nodes?.errors ?? [], [], "the fake nodes' writes failed");
});

describe("the DaemonSet controller", () => {
  test("one pod per eligible node: a NoSchedule taint keeps it off unless tolerated; new, relabelled and removed nodes follow", async () => {
    const created = await srv.client.create(DAEMONSETS, NS, daemonSet("agent"));
    assert.equal(created.metadata.annotations?.["deprecated.daemonset.template.generation"], "1");
    await rolledOut("agent", 2);
    const by = await onNodes("agent", ["node-1", "node-2"]);
    const pod = by.get("node-1")?.[0] as Pod;
    assert.deepEqual(pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, {
      nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["node-1"] }] }],
    });
    assert.match(pod.metadata.name ?? "", /^agent-[a-z0-9]{5}$/);
    assert.equal(pod.metadata.ownerReferences?.[0]?.kind, "DaemonSet");
    assert.equal(pod.metadata.labels?.["pod-template-generation"], "1");
    const keys = (pod.spec?.tolerations ?? []).map((t) => `${t.key}:${t.effect}`).sort();
    assert.deepEqual(keys, [
      "node.kubernetes.io/disk-pressure:NoSchedule",
      "node.kubernetes.io/memory-pressure:NoSchedule",
      "node.kubernetes.io/not-ready:NoExecute",
      "node.kubernetes.io/pid-pressure:NoSchedule",
      "node.kubernetes.io/unreachable:NoExecute",
      "node.kubernetes.io/unschedulable:NoSchedule",
    ]);
    const [rev] = await revisionsOf("agent");
    assert.equal(rev?.revision, 1);
    assert.equal(pod.metadata.labels?.["controller-revision-hash"], rev?.metadata.labels?.["controller-revision-hash"]);
    assert.equal(rev?.metadata.name, `agent-${pod.metadata.labels?.["controller-revision-hash"]}`);
    assert.equal(
      (rev?.data as { spec?: { template?: { $patch?: string } } } | undefined)?.spec?.template?.$patch,
      "replace",
    );

    // Tolerating the taint: the tainted node gets one too.
    await srv.client.create(DAEMONSETS, NS, daemonSet("tolerant", { tolerations: TOLERATE_ALL }));
    await rolledOut("tolerant", 3);
    await onNodes("tolerant", ["node-1", "node-2", TAINTED]);

    // A new node gets a pod; a node removed loses it.
    await srv.client.create(NODES, undefined, node("node-4"));
    await rolledOut("agent", 3);
    await onNodes("agent", ["node-1", "node-2", "node-4"]);
    await srv.client.delete(NODES, undefined, "node-4");
    await rolledOut("agent", 2);
    await onNodes("agent", ["node-1", "node-2"]);

    // nodeSelector: a node labelled to match gets one, unlabelled loses it.
    await srv.client.create(DAEMONSETS, NS, daemonSet("ssd", { nodeSelector: { disk: "ssd" } }));
    await rolledOut("ssd", 0);
    await srv.client.patch(NODES, undefined, "node-2", { metadata: { labels: { disk: "ssd" } } }, "strategic");
    await rolledOut("ssd", 1);
    await onNodes("ssd", ["node-2"]);
    await srv.client.patch(NODES, undefined, "node-2", { metadata: { labels: { disk: null } } }, "strategic");
    await rolledOut("ssd", 0);
    await onNodes("ssd", []);

    // A NoSchedule taint added later leaves the running pod alone (it is not NoExecute).
    await srv.client.patch(
      NODES,
      undefined,
      "node-1",
      { spec: { taints: [{ key: "dedicated", value: "later", effect: "NoSchedule" }] } },
      "strategic",
    );
    const [agent] = await watchUntil(
      srv.client,
      DAEMONSETS,
      NS,
      ([d]) => d?.status?.desiredNumberScheduled === 1 && d.status.numberMisscheduled === 1,
      { name: "agent", timeoutMs: 10_000 },
    );
    assert.equal(agent?.status?.currentNumberScheduled, 1);
    assert.equal(podsByNode("agent").get("node-1")?.length, 1, "the pod on the newly tainted node stays");
    await srv.client.patch(NODES, undefined, "node-1", { spec: { taints: null } }, "strategic");
    await rolledOut("agent", 2);
  });

  test("RollingUpdate with maxUnavailable 1 rolls node by node; rollout status, history and undo with kubectl", async () => {
    const all = ["node-1", "node-2", TAINTED];
    await srv.client.create(DAEMONSETS, NS, daemonSet("roll", { tolerations: TOLERATE_ALL }));
    await rolledOut("roll", 3);
    const status = kc.start(["rollout", "status", "ds/roll", "-n", NS, "--timeout=60s"]);
    const seen = await sampleRollout("roll", all, async () => {
      await setImage("roll", "busybox:v2");
      await rolledOut("roll", 3);
      await onNodes("roll", all);
    });
    assert.equal(
      seen.maxUnavailable,
      1,
      `never more than maxUnavailable (1) nodes without a ready pod: ${JSON.stringify(seen)}`,
    );
    assert.equal(seen.maxDoubled, 0, "no node ever held two pods without maxSurge");
    const code = await new Promise((r) => status.once("close", r));
    assert.equal(code, 0, status.err());
    assert.match(status.out(), /daemon set "roll" successfully rolled out/);

    const revs = await revisionsOf("roll");
    assert.deepEqual(
      revs.map((r) => r.revision),
      [1, 2],
    );
    const newHash = revs[1]?.metadata.labels?.["controller-revision-hash"];
    for (const [, [p]] of podsByNode("roll")) {
      assert.equal(p?.metadata.labels?.["controller-revision-hash"], newHash);
      assert.equal(p?.metadata.labels?.["pod-template-generation"], "2");
      assert.equal(p?.spec?.containers[0]?.image, "busybox:v2");
    }

    const history = await kc.ok(["rollout", "history", "ds/roll", "-n", NS]);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    const rev1 = await kc.ok(["rollout", "history", "ds/roll", "-n", NS, "--revision=1"]);
    assert.match(rev1, /Image:\s+busybox\n/);

    // Undo: revision 1's template comes back and that revision is renumbered 3.
    assert.match(await kc.ok(["rollout", "undo", "ds/roll", "-n", NS]), /daemonset.apps\/roll rolled back/);
    await rolledOut("roll", 3);
    await onNodes("roll", all);
    for (const [, [p]] of podsByNode("roll")) assert.equal(p?.spec?.containers[0]?.image, "busybox");
    assert.deepEqual(
      (await revisionsOf("roll")).map((r) => [r.revision, r.metadata.name]),
      [
        [2, revs[1]?.metadata.name],
        [3, revs[0]?.metadata.name],
      ],
    );
    const skipped = await kc.ok(["rollout", "undo", "ds/roll", "-n", NS, "--to-revision=3"]);
    assert.match(skipped, /skipped rollback \(current template already matches revision 3\)/);

    // kubectl reads the revisions' table: NAME CONTROLLER REVISION AGE.
    const table = await kc.ok(["get", "controllerrevisions", "-n", NS, "-l", "app=roll"]);
    assert.match(table, /^NAME\s+CONTROLLER\s+REVISION\s+AGE\n/);
    assert.match(table, new RegExp(`${revs[0]?.metadata.name}\\s+daemonset.apps/roll\\s+3\\s`));
  });

  test("RollingUpdate with maxSurge 1 and maxUnavailable 0 keeps every node served", async () => {
    const all = ["node-1", "node-2", TAINTED];
    await srv.client.create(
      DAEMONSETS,
      NS,
      daemonSet("surge", {
        tolerations: TOLERATE_ALL,
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      }),
    );
    await rolledOut("surge", 3);
    const seen = await sampleRollout("surge", all, async () => {
      await setImage("surge", "busybox:v2");
      await rolledOut("surge", 3);
      await onNodes("surge", all);
    });
    assert.equal(seen.maxUnavailable, 0, `no node ever went without a ready pod: ${JSON.stringify(seen)}`);
    assert.equal(seen.maxDoubled, 1, "one node at a time held an old and a new pod");
  });

  test("OnDelete replaces a pod only when it is deleted", async () => {
    await srv.client.create(DAEMONSETS, NS, daemonSet("manual", { strategy: { type: "OnDelete" } }));
    await rolledOut("manual", 2);
    const before = await onNodes("manual", ["node-1", "node-2"]);
    await setImage("manual", "busybox:v2");
    const [ds] = await watchUntil(
      srv.client,
      DAEMONSETS,
      NS,
      ([d]) => (d?.status?.observedGeneration ?? 0) >= 2 && (d?.status?.updatedNumberScheduled ?? 0) === 0,
      { name: "manual" },
    );
    assert.equal(ds?.status?.numberReady, 2);
    assert.equal((await revisionsOf("manual")).length, 2);
    const old = before.get("node-1")?.[0] as Pod;
    assert.equal(podsByNode("manual").get("node-1")?.[0]?.metadata.uid, old.metadata.uid, "nothing replaced");
    await srv.client.delete(PODS, NS, old.metadata.name ?? "");
    await watchUntil(srv.client, DAEMONSETS, NS, ([d]) => d?.status?.updatedNumberScheduled === 1, { name: "manual" });
    const after = await onNodes("manual", ["node-1", "node-2"]);
    assert.equal(after.get("node-1")?.[0]?.spec?.containers[0]?.image, "busybox:v2");
    assert.equal(after.get("node-2")?.[0]?.metadata.uid, before.get("node-2")?.[0]?.metadata.uid);
    // kubectl refuses rollout status for OnDelete, as upstream.
    const r = await kc.run(["rollout", "status", "ds/manual", "-n", NS]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /rollout status is only available for RollingUpdate strategy type/);
  });

  test("a selector that does not match the template is refused; ControllerRevision data is immutable", async () => {
    const bad = daemonSet("bad");
    if (bad.spec) bad.spec.selector = { matchLabels: { app: "other" } };
    await assert.rejects(srv.client.create(DAEMONSETS, NS, bad), (err: unknown) => {
      assert.ok(isStatusError(err));
      assert.match(
        err.message,
        /spec\.template\.metadata\.labels: Invalid value: .*`selector` does not match template `labels`/,
      );
      return true;
    });
    const [rev] = await revisionsOf("agent");
    assert.ok(rev);
    await assert.rejects(
      srv.client.update(CONTROLLERREVISIONS, NS, { ...rev, data: { changed: true } }),
      /data: Invalid value: .*field is immutable/,
    );
    await assert.rejects(
      srv.client.create(CONTROLLERREVISIONS, NS, {
        apiVersion: "apps/v1",
        kind: "ControllerRevision",
        metadata: { name: "nodata" },
        revision: 1,
      }),
      /data: Required value: data is mandatory/,
    );
  });

  test("kubeling get ds and describe ds", async () => {
    const get = await runCli(["--kubeconfig", srv.kubeconfigPath, "get", "ds", "agent", "-n", NS]);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE\n/);
    assert.match(get.stdout, /\nagent\s+2\s+2\s+2\s+2\s+2\s+<none>\s+/);
    const desc = await runCli(["--kubeconfig", srv.kubeconfigPath, "describe", "ds", "agent", "-n", NS]);
    assert.equal(desc.code, 0, desc.stderr);
    assert.match(desc.stdout, /Desired Number of Nodes Scheduled: 2\n/);
    assert.match(desc.stdout, /Pods Status:\s+2 Running \/ 0 Waiting \/ 0 Succeeded \/ 0 Failed\n/);
  });

  test("kubeling rollout history, undo --to-revision and status of a daemon set", async () => {
    const kl = (args: string[]) => runCli(["--kubeconfig", srv.kubeconfigPath, "-n", NS, ...args]);
    const all = ["node-1", "node-2", TAINTED];
    // ds/roll is at revisions 2 (busybox:v2) and 3 (busybox) after the kubectl test.
    const history = await kl(["rollout", "history", "ds/roll"]);
    assert.equal(history.code, 0, history.stderr);
    assert.equal(history.stdout, await kc.ok(["rollout", "history", "ds/roll", "-n", NS]));
    const two = await kl(["rollout", "history", "ds/roll", "--revision=2"]);
    assert.equal(two.stdout, await kc.ok(["rollout", "history", "ds/roll", "-n", NS, "--revision=2"]));
    const undo = await kl(["rollout", "undo", "ds/roll", "--to-revision=2"]);
    assert.equal(undo.code, 0, undo.stderr);
    assert.equal(undo.stdout, "daemonset.apps/roll rolled back\n");
    await rolledOut("roll", 3);
    await onNodes("roll", all);
    for (const [, [p]] of podsByNode("roll")) assert.equal(p?.spec?.containers[0]?.image, "busybox:v2");
    const status = await kl(["rollout", "status", "ds/roll"]);
    assert.equal(status.stdout, 'daemon set "roll" successfully rolled out\n');
    const restart = await kl(["rollout", "restart", "ds/roll"]);
    assert.equal(restart.stdout, "daemonset.apps/roll restarted\n", restart.stderr);
    await rolledOut("roll", 3);
    await watchUntil(
      srv.client,
      PODS,
      NS,
      (ps) =>
        ps.filter((p) => !p.metadata.deletionTimestamp).length === 3 &&
        ps.every((p) => p.metadata.annotations?.["kubectl.kubernetes.io/restartedAt"] !== undefined && isPodReady(p)),
      { labelSelector: "app=roll", timeoutMs: 20_000, message: "every pod of roll restarted" },
    );
    const described = await kl(["describe", "ds", "roll"]);
    const kubectlDescribed = await kc.ok(["describe", "ds", "roll", "-n", NS]);
    assert.equal(described.stdout.split("Events:")[0], kubectlDescribed.split("Events:")[0]);
    const missing = await kl(["rollout", "undo", "ds/roll", "--to-revision=9"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /unable to find specified revision 9 in history/);
  });
});
