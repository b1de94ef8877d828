// The StatefulSet controller in a real kubeling-controller-manager (its own identity, so the
// bootstrap RBAC roles; with the garbage collector and the PVC protection controller) against a
// real API server and etcd. test/harness/fake-nodes.ts plays scheduler and kubelet: every pod is
// bound to node-1 and made Running and Ready (pods of images starting "stuck/" stay unready).
// Claims are created and kept by the controller; nothing binds them to volumes here, so this
// checks the claims by name and uid (the data kept across pods is the e2e test's). Orders are
// read from one watch of the pods, never from polling. A rolling update with maxUnavailable 2
// takes two pods down at once.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isStatusError } from "#pkg/api/errors.js";
import { CONTROLLERREVISIONS, NODES, PERSISTENTVOLUMECLAIMS, PODS, STATEFULSETS } from "#pkg/api/resources.js";
import type { StatefulSet } from "#pkg/api/types/apps.js";
import type { Pod } from "#pkg/api/types/core.js";
import type { PersistentVolumeClaim } from "#pkg/api/types/storage.js";
import { isPodReady } from "#pkg/controller/pod-util.js";
import { CONTROLLER_MANAGER_USER } from "#pkg/pki/cluster.js";
import { runCli } from "../e2e/cli-helpers.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { FakeNodes } from "../harness/fake-nodes.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { node, podTemplate } from "../harness/objects.js";
import { watchUntil } from "../harness/watch.js";

const NS = "default";
const CM_ARGS = [
  "--leader-elect=false",
  "--controllers=statefulset,garbagecollector,persistentvolumeclaim-protection-controller",
];
let srv: TestApiServer;
let cm: TestControllerManager;
let nodes: FakeNodes;
let kc: Kubectl;

function statefulSet(
  name: string,
  replicas: number,
  o: {
    image?: string;
    policy?: "OrderedReady" | "Parallel";
    partition?: number;
    maxUnavailable?: number | string;
    claims?: boolean;
    retention?: { whenDeleted?: string; whenScaled?: string };
    onDelete?: boolean;
  } = {},
): StatefulSet {
  const template = podTemplate(name, { image: o.image ?? "busybox", terminationGracePeriodSeconds: 1 });
  const c = template.spec?.containers[0];
  if (c && o.claims !== false) c.volumeMounts = [{ name: "www", mountPath: "/data" }];
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      serviceName: "nginx",
      selector: { matchLabels: { app: name } },
      template,
      ...(o.policy ? { podManagementPolicy: o.policy } : {}),
      ...(o.onDelete
        ? { updateStrategy: { type: "OnDelete" } }
        : o.partition !== undefined || o.maxUnavailable !== undefined
          ? {
              updateStrategy: {
                type: "RollingUpdate",
                rollingUpdate: {
                  ...(o.partition !== undefined ? { partition: o.partition } : {}),
                  ...(o.maxUnavailable !== undefined ? { maxUnavailable: o.maxUnavailable } : {}),
                },
              },
            }
          : {}),
      ...(o.retention ? { persistentVolumeClaimRetentionPolicy: o.retention } : {}),
      ...(o.claims === false
        ? {}
        : {
            volumeClaimTemplates: [
              {
                metadata: { name: "www" },
                spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Mi" } } },
              },
            ],
          }),
    },
  };
}

/** The live pods of app=<name>, by name, from the fake nodes' cache. */
function livePods(name: string, pods: Pod[] = nodes.informer.list()): Map<string, Pod> {
  return new Map(
    pods
      .filter((p) => p.metadata.labels?.app === name && !p.metadata.deletionTimestamp)
      .map((p) => [p.metadata.name ?? "", p]),
  );
}

/** Waits (watching) until the set reports every replica ready and updated at one revision. */
async function rolledOut(name: string, replicas: number, timeoutMs = 30_000): Promise<StatefulSet> {
  const [s] = await watchUntil(
    srv.client,
    STATEFULSETS,
    NS,
    ([x]) => {
      const st = x?.status;
      return (
        x !== undefined &&
        (st?.observedGeneration ?? 0) >= (x.metadata.generation ?? 1) &&
        st?.replicas === replicas &&
        (st.readyReplicas ?? 0) === replicas &&
        (st.updatedReplicas ?? 0) === replicas &&
        (st.availableReplicas ?? 0) === replicas &&
        st.currentRevision === st.updateRevision
      );
    },
    { name, timeoutMs, message: `statefulset ${name} rolled out at ${replicas}` },
  );
  return s as StatefulSet;
}

/**
 * Records, while fn runs, every pod event of app=<name> in order: creations, readiness and
 * deletions (name, what, and the ready pods at that moment).
 */
async function recordPods(name: string, fn: () => Promise<void>) {
  const events: Array<{ pod: string; what: "created" | "ready" | "deleting" | "gone"; ready: string[]; live: number }> =
    [];
  let last: Map<string, Pod> | undefined;
  const stop = nodes.sample((pods) => {
    const now = new Map(pods.filter((p) => p.metadata.labels?.app === name).map((p) => [p.metadata.name ?? "", p]));
    if (!last) {
      // What exists when recording starts is the baseline, not an event.
      last = now;
      return;
    }
    const ready = [...now.values()]
      .filter((p) => isPodReady(p) && !p.metadata.deletionTimestamp)
      .map((p) => p.metadata.name ?? "");
    const live = [...now.values()].filter((p) => !p.metadata.deletionTimestamp).length;
    for (const [n, p] of now) {
      const before = last.get(n);
      if (!before || before.metadata.uid !== p.metadata.uid) events.push({ pod: n, what: "created", ready, live });
      if (isPodReady(p) && !(before && isPodReady(before) && before.metadata.uid === p.metadata.uid))
        events.push({ pod: n, what: "ready", ready, live });
      if (p.metadata.deletionTimestamp && !before?.metadata.deletionTimestamp)
        events.push({ pod: n, what: "deleting", ready, live });
    }
    for (const n of last.keys()) if (!now.has(n)) events.push({ pod: n, what: "gone", ready, live });
    last = now;
  });
  try {
    await fn();
  } finally {
    stop();
  }
  return events;
}

async function claim(name: string): Promise<PersistentVolumeClaim> {
  return srv.client.get(PERSISTENTVOLUMECLAIMS, NS, name);
}

async function setImage(name: string, image: string): Promise<void> {
  await srv.client.patch(
    STATEFULSETS,
    NS,
    name,
    { spec: { template: { spec: { containers: [{ name: "c", image }] } } } },
    "strategic",
  );
}

const revisionOf = (p: Pod | undefined) => p?.metadata.labels?.["controller-revision-hash"];

before(async () => {
  srv = await startApiServer();
  await srv.client.create(NODES, undefined, node("node-1"));
  nodes = new FakeNodes(srv.client, NS, { defaultNode: "node-1" });
  await nodes.start();
  cm = await startControllerManager({
    kubeconfigPath: await srv.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
    extraArgs: CM_ARGS,
  });
  kc = kubectlFor(srv.kubeconfigPath);
});

after(async () => {
  kc?.close();
  await cm?.stop();
  nodes?.stop();
  await srv?.stop();
  assert.deepEqual(nodes?.errors ?? [], [], "the fake nodes' writes failed");
});

describe("the StatefulSet controller", () => {
  test("OrderedReady: web-0, web-1, web-2 in order, each Ready before the next, each with its own claim", async () => {
    const events = await recordPods("web", async () => {
      await srv.client.create(STATEFULSETS, NS, statefulSet("web", 3));
      await rolledOut("web", 3);
    });
    const created = events.filter((e) => e.what === "created").map((e) => e.pod);
    assert.deepEqual(created, ["web-0", "web-1", "web-2"]);
    for (const [i, n] of ["web-1", "web-2"].entries()) {
      const e = events.find((x) => x.what === "created" && x.pod === n);
      assert.ok(e?.ready.includes(`web-${i}`), `${n} created only once web-${i} was Ready: ${JSON.stringify(e)}`);
      assert.equal(e?.ready.length, i + 1, `${n} created with exactly its predecessors ready`);
    }
    for (let i = 0; i < 3; i++) {
      const p = livePods("web").get(`web-${i}`) as Pod;
      assert.equal(p.spec?.hostname, `web-${i}`);
      assert.equal(p.spec?.subdomain, "nginx");
      assert.equal(p.metadata.labels?.["statefulset.kubernetes.io/pod-name"], `web-${i}`);
      assert.equal(p.metadata.labels?.["apps.kubernetes.io/pod-index"], String(i));
      const vol = p.spec?.volumes?.find((v) => v.name === "www");
      assert.equal(vol?.persistentVolumeClaim?.claimName, `www-web-${i}`);
      const c = await claim(`www-web-${i}`);
      assert.equal(c.metadata.labels?.app, "web");
      assert.deepEqual(c.spec?.accessModes, ["ReadWriteOnce"]);
      assert.equal(c.metadata.ownerReferences, undefined, "Retain/Retain: the claim has no owner");
    }
    const s = await srv.client.get(STATEFULSETS, NS, "web");
    assert.match(s.status?.currentRevision ?? "", /^web-[a-z0-9]+$/);
    assert.equal(revisionOf(livePods("web").get("web-0")), s.status?.currentRevision);
  });

  test("a deleted pod comes back under its name with the same claim; scale down removes the highest ordinal first", async () => {
    const before = livePods("web").get("web-1") as Pod;
    const claimUid = (await claim("www-web-1")).metadata.uid;
    await srv.client.delete(PODS, NS, "web-1");
    await watchUntil(
      srv.client,
      PODS,
      NS,
      ([p]) => p !== undefined && p.metadata.uid !== before.metadata.uid && isPodReady(p),
      { name: "web-1", timeoutMs: 20_000 },
    );
    const again = livePods("web").get("web-1");
    assert.equal(again?.spec?.volumes?.find((v) => v.name === "www")?.persistentVolumeClaim?.claimName, "www-web-1");
    assert.equal((await claim("www-web-1")).metadata.uid, claimUid, "the same claim, not a new one");

    const uids = new Map<string, string | undefined>();
    for (const i of [1, 2]) uids.set(`www-web-${i}`, (await claim(`www-web-${i}`)).metadata.uid);
    const events = await recordPods("web", async () => {
      await srv.client.patch(STATEFULSETS, NS, "web", { spec: { replicas: 1 } }, "merge");
      await rolledOut("web", 1);
    });
    const deletions = events.filter((e) => e.what === "deleting").map((e) => e.pod);
    assert.deepEqual(deletions, ["web-2", "web-1"]);
    const web1Deleting = events.findIndex((e) => e.what === "deleting" && e.pod === "web-1");
    const web2Gone = events.findIndex((e) => e.what === "gone" && e.pod === "web-2");
    assert.ok(web2Gone >= 0 && web2Gone < web1Deleting, "web-1 is deleted only once web-2 is gone");
    // Retained claims come back to the same ordinals.
    await srv.client.patch(STATEFULSETS, NS, "web", { spec: { replicas: 3 } }, "merge");
    await rolledOut("web", 3);
    for (const [n, uid] of uids) assert.equal((await claim(n)).metadata.uid, uid, `${n} reused`);
  });

  test("a partitioned rolling update changes only ordinals >= partition; then the rest, highest first", async () => {
    const s0 = await srv.client.get(STATEFULSETS, NS, "web");
    const oldRev = s0.status?.currentRevision;
    await srv.client.patch(
      STATEFULSETS,
      NS,
      "web",
      { spec: { updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 2 } } } },
      "merge",
    );
    await setImage("web", "busybox:v2");
    const [s] = await watchUntil(
      srv.client,
      STATEFULSETS,
      NS,
      ([x]) =>
        x?.status?.updatedReplicas === 1 &&
        x.status.readyReplicas === 3 &&
        (x.status.observedGeneration ?? 0) >= (x.metadata.generation ?? 0),
      { name: "web", timeoutMs: 20_000 },
    );
    const newRev = s?.status?.updateRevision;
    assert.notEqual(newRev, oldRev);
    assert.equal(s?.status?.currentRevision, oldRev);
    const pods = livePods("web");
    assert.equal(revisionOf(pods.get("web-2")), newRev);
    assert.equal(pods.get("web-2")?.spec?.containers[0]?.image, "busybox:v2");
    for (const n of ["web-0", "web-1"]) {
      assert.equal(revisionOf(pods.get(n)), oldRev, `${n} below the partition keeps the old revision`);
      assert.equal(pods.get(n)?.spec?.containers[0]?.image, "busybox");
    }
    // Below the partition a deleted pod comes back at the current (old) revision.
    const web0 = pods.get("web-0") as Pod;
    await srv.client.delete(PODS, NS, "web-0");
    const [back] = await watchUntil(
      srv.client,
      PODS,
      NS,
      ([p]) => p !== undefined && p.metadata.uid !== web0.metadata.uid && isPodReady(p),
      { name: "web-0", timeoutMs: 20_000 },
    );
    assert.equal(revisionOf(back), oldRev);
    const partitioned = await kc.ok(["rollout", "status", "sts/web", "-n", NS, "--timeout=30s"]);
    assert.match(partitioned, /partitioned roll out complete: 1 new pods have been updated\.\.\./);

    const events = await recordPods("web", async () => {
      await srv.client.patch(
        STATEFULSETS,
        NS,
        "web",
        { spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } },
        "strategic",
      );
      await rolledOut("web", 3);
    });
    assert.deepEqual(
      events.filter((e) => e.what === "deleting").map((e) => e.pod),
      ["web-1", "web-0"],
    );
    assert.ok(Math.min(...events.map((e) => e.ready.length)) >= 2, "never more than one pod down (maxUnavailable 1)");
    const done = await kc.ok(["rollout", "status", "sts/web", "-n", NS, "--timeout=30s"]);
    assert.match(done, /partitioned roll out complete: 3 new pods have been updated\.\.\./);
  });

  test("kubectl and kubeling rollout history and undo of a stateful set; get and describe", async () => {
    const history = await kc.ok(["rollout", "history", "sts/web", "-n", NS]);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    const kl = (args: string[]) => runCli(["--kubeconfig", srv.kubeconfigPath, "-n", NS, ...args]);
    const mine = await kl(["rollout", "history", "sts/web"]);
    assert.equal(mine.stdout, history);
    assert.match(await kc.ok(["rollout", "undo", "sts/web", "-n", NS]), /statefulset.apps\/web rolled back/);
    await rolledOut("web", 3);
    for (const p of livePods("web").values()) assert.equal(p.spec?.containers[0]?.image, "busybox");
    const revs = (await srv.client.list(CONTROLLERREVISIONS, NS, { labelSelector: "app=web" })).items;
    assert.deepEqual(revs.map((r) => r.revision).sort(), [2, 3]);
    const undo = await kl(["rollout", "undo", "sts/web", "--to-revision=2"]);
    assert.equal(undo.stdout, "statefulset.apps/web rolled back\n", undo.stderr);
    await rolledOut("web", 3);
    for (const p of livePods("web").values()) assert.equal(p.spec?.containers[0]?.image, "busybox:v2");
    const status = await kl(["rollout", "status", "sts/web"]);
    assert.match(status.stdout, /partitioned roll out complete: 3 new pods have been updated\.\.\.\n$/);

    const get = await kl(["get", "sts", "web"]);
    assert.match(get.stdout, /^NAME\s+READY\s+AGE\nweb\s+3\/3\s+/);
    assert.match(await kc.ok(["get", "sts", "web", "-n", NS]), /^NAME\s+READY\s+AGE\nweb\s+3\/3\s+/);
    const desc = await kl(["describe", "sts", "web"]);
    assert.equal(desc.code, 0, desc.stderr);
    assert.match(desc.stdout, /Replicas:\s+3 desired \| 3 total\n/);
    assert.match(desc.stdout, /Update Strategy:\s+RollingUpdate\n\s+Partition:\s+0\n/);
    assert.match(desc.stdout, /Volume Claims:\n\s+Name:\s+www\n/);
    const kubectlDesc = await kc.ok(["describe", "sts", "web", "-n", NS]);
    assert.equal(desc.stdout.split("Events:")[0], kubectlDesc.split("Events:")[0]);
  });

  test("Parallel creates every pod at once, not waiting for readiness", async () => {
    const events = await recordPods("par", async () => {
      await srv.client.create(
        STATEFULSETS,
        NS,
        statefulSet("par", 3, { policy: "Parallel", image: "stuck/busybox", claims: false }),
      );
      await watchUntil(srv.client, STATEFULSETS, NS, ([x]) => x?.status?.replicas === 3, {
        name: "par",
        timeoutMs: 20_000,
      });
    });
    assert.deepEqual(
      events
        .filter((e) => e.what === "created")
        .map((e) => e.pod)
        .sort(),
      ["par-0", "par-1", "par-2"],
    );
    assert.equal(events.filter((e) => e.what === "ready").length, 0);
  });

  test("OrderedReady waits on an unready pod; OnDelete updates only deleted pods", async () => {
    await srv.client.create(STATEFULSETS, NS, statefulSet("slow", 2, { image: "stuck/busybox", claims: false }));
    await watchUntil(srv.client, STATEFULSETS, NS, ([x]) => x?.status?.replicas === 1, { name: "slow" });
    // No second pod while the first is not Ready, however many syncs run.
    await srv.client.patch(STATEFULSETS, NS, "slow", { metadata: { labels: { poke: "1" } } }, "merge");
    await srv.client.patch(STATEFULSETS, NS, "slow", { metadata: { labels: { poke: "2" } } }, "merge");
    const [st] = await watchUntil(srv.client, STATEFULSETS, NS, ([x]) => x?.metadata.labels?.poke === "2", {
      name: "slow",
    });
    assert.equal(st?.status?.replicas, 1);
    assert.deepEqual([...livePods("slow").keys()], ["slow-0"]);

    await srv.client.create(STATEFULSETS, NS, statefulSet("od", 2, { onDelete: true, claims: false }));
    await rolledOut("od", 2);
    const before = livePods("od");
    await setImage("od", "busybox:v2");
    await watchUntil(
      srv.client,
      STATEFULSETS,
      NS,
      ([x]) => (x?.status?.observedGeneration ?? 0) >= 2 && x?.status?.updateRevision !== x?.status?.currentRevision,
      { name: "od" },
    );
    assert.equal(livePods("od").get("od-1")?.metadata.uid, before.get("od-1")?.metadata.uid, "nothing replaced");
    await srv.client.delete(PODS, NS, "od-1");
    const [od1] = await watchUntil(
      srv.client,
      PODS,
      NS,
      ([p]) => p !== undefined && p.metadata.uid !== before.get("od-1")?.metadata.uid && isPodReady(p),
      { name: "od-1", timeoutMs: 20_000 },
    );
    assert.equal(od1?.spec?.containers[0]?.image, "busybox:v2");
    assert.equal(livePods("od").get("od-0")?.metadata.uid, before.get("od-0")?.metadata.uid);
  });

  test("persistentVolumeClaimRetentionPolicy: whenScaled Delete removes a scaled-away claim, whenDeleted Delete the rest", async () => {
    await srv.client.create(
      STATEFULSETS,
      NS,
      statefulSet("ret", 2, { retention: { whenDeleted: "Delete", whenScaled: "Delete" } }),
    );
    const s = await rolledOut("ret", 2);
    const c0 = await claim("www-ret-0");
    assert.deepEqual(
      c0.metadata.ownerReferences?.map((r) => [r.kind, r.name, r.uid]),
      [["StatefulSet", "ret", s.metadata.uid]],
    );
    await srv.client.patch(STATEFULSETS, NS, "ret", { spec: { replicas: 1 } }, "merge");
    await rolledOut("ret", 1);
    await watchUntil(srv.client, PERSISTENTVOLUMECLAIMS, NS, (cs) => !cs.some((c) => c.metadata.name === "www-ret-1"), {
      timeoutMs: 20_000,
      message: "www-ret-1 deleted with its pod",
    });
    assert.equal((await claim("www-ret-0")).metadata.uid, c0.metadata.uid);
    await srv.client.delete(STATEFULSETS, NS, "ret");
    await watchUntil(srv.client, PERSISTENTVOLUMECLAIMS, NS, (cs) => !cs.some((c) => c.metadata.name === "www-ret-0"), {
      timeoutMs: 30_000,
      message: "www-ret-0 deleted with the set",
    });
  });

  test("the controller-manager killed mid-rollout: the rollout finishes and no extra pod is ever made", async () => {
    await srv.client.create(STATEFULSETS, NS, statefulSet("kill", 3, { claims: false }));
    await rolledOut("kill", 3);
    let maxLive = 0;
    const events = await recordPods("kill", async () => {
      const stopCount = nodes.sample((pods) => {
        maxLive = Math.max(maxLive, livePods("kill", pods).size);
      });
      try {
        await setImage("kill", "busybox:v2");
        // Kill it once the first replacement is on its way.
        await watchUntil(srv.client, PODS, NS, ([p]) => p?.spec?.containers[0]?.image === "busybox:v2", {
          name: "kill-2",
          timeoutMs: 20_000,
        });
        cm.proc.child.kill("SIGKILL");
        await cm.proc.exited();
        cm = await startControllerManager({
          kubeconfigPath: await srv.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
          extraArgs: CM_ARGS,
        });
        await rolledOut("kill", 3, 40_000);
      } finally {
        stopCount();
      }
    });
    assert.ok(maxLive <= 3, `never more than 3 live pods (saw ${maxLive})`);
    const created = events.filter((e) => e.what === "created").map((e) => e.pod);
    assert.deepEqual(created.sort(), ["kill-0", "kill-1", "kill-2"], "one replacement per ordinal");
    for (const p of livePods("kill").values()) assert.equal(p.spec?.containers[0]?.image, "busybox:v2");
  });

  test("RollingUpdate maxUnavailable 2: the two highest ordinals go down together, never a third", async () => {
    await srv.client.create(STATEFULSETS, NS, statefulSet("mu", 4, { claims: false, maxUnavailable: 2 }));
    await rolledOut("mu", 4);
    const events = await recordPods("mu", async () => {
      await setImage("mu", "busybox:v2");
      await rolledOut("mu", 4);
    });
    const deleting = events.filter((e) => e.what === "deleting").map((e) => e.pod);
    assert.deepEqual(deleting, ["mu-3", "mu-2", "mu-1", "mu-0"]);
    const secondDeleting = events.findIndex((e) => e.what === "deleting" && e.pod === "mu-2");
    const firstCreated = events.findIndex((e) => e.what === "created");
    assert.ok(
      secondDeleting >= 0 && secondDeleting < firstCreated,
      `mu-2 went down before mu-3 came back: ${JSON.stringify(events.map((e) => [e.pod, e.what]))}`,
    );
    const ready = events.map((e) => e.ready.length);
    assert.equal(Math.min(...ready), 2, `two pods down at once, never three: ${JSON.stringify(ready)}`);
    for (const p of livePods("mu").values()) assert.equal(p.spec?.containers[0]?.image, "busybox:v2");
  });

  test("refused: a selector not matching the template, volumeClaimTemplates changed", async () => {
    const bad = statefulSet("bad", 1);
    if (bad.spec) bad.spec.selector = { matchLabels: { app: "other" } };
    await assert.rejects(srv.client.create(STATEFULSETS, NS, bad), /`selector` does not match template `labels`/);
    const web = await srv.client.get(STATEFULSETS, NS, "web");
    const changed = structuredClone(web);
    const t = changed.spec?.volumeClaimTemplates?.[0];
    if (t?.spec?.resources?.requests) t.spec.resources.requests.storage = "2Mi";
    await assert.rejects(srv.client.update(STATEFULSETS, NS, changed), (err: unknown) => {
      assert.ok(isStatusError(err));
      assert.match(
        err.message,
        /spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden/,
      );
      return true;
    });
  });
});
