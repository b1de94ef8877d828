// The Deployment controller on FakeClient, with real informers: each test seeds objects, syncs
// until nothing changes (playing the ReplicaSet controller in between: every ReplicaSet's
// status follows its spec), and checks the ReplicaSets, the Deployment and the events.

import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { forbidden } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { DEPLOYMENTS, PODS, REPLICASETS, type ResourceType } from "#pkg/api/resources.js";
import type { Deployment, ReplicaSet } from "#pkg/api/types/apps.js";
import type { Pod } from "#pkg/api/types/core.js";
import type { InformerFactory } from "#pkg/cache/factory.js";
import type { CreateOptions } from "#pkg/client/client.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { abortFakeContexts, FakeClient, type FakeRecorder, fakeControllerContext } from "#pkg/testing/index.js";
import {
  DEPLOYMENT_AVAILABLE,
  DEPLOYMENT_PROGRESSING,
  FAILED_RS_CREATE_REASON,
  getDeploymentCondition,
  NEW_REPLICASET_REASON,
  NEW_RS_AVAILABLE_REASON,
  PAUSED_DEPLOY_REASON,
  RESUMED_DEPLOY_REASON,
  TIMED_OUT_REASON,
} from "./conditions.js";
import { DeploymentController } from "./deployment-controller.js";
import { computeHash } from "./hash.js";
import { deployment, NS, replicaSet, T0, template } from "./testing.js";
import {
  DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY,
  DEPRECATED_ROLLBACK_TO,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
} from "./util.js";

/**
 * A FakeClient whose status writes keep the request's annotations (as the API server's status
 * strategy for Deployments does) and whose ReplicaSet creates can be made to fail.
 */
class Client extends FakeClient {
  failRSCreates = false;

  override async update<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    obj: T,
    opts: { subresource?: string } = {},
  ): Promise<T> {
    const written = await super.update(r, ns, obj, opts);
    if (opts.subresource !== "status" || !obj.metadata.annotations) return written;
    const withAnnotations = { ...written, metadata: { ...written.metadata, annotations: obj.metadata.annotations } };
    return super.update(r, ns, withAnnotations);
  }

  override async create<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    obj: object,
    opts: CreateOptions = {},
  ): Promise<T> {
    if (this.failRSCreates && r === (REPLICASETS as unknown as ResourceType<T>))
      throw forbidden('replicasets.apps "web" is forbidden: exceeded quota');
    return super.create(r, ns, obj, opts);
  }
}

interface Rig {
  client: Client;
  recorder: FakeRecorder;
  controller: DeploymentController;
  factory: InformerFactory;
  clock: FakeClock;
  start(): Promise<void>;
}

afterEach(abortFakeContexts);

function rig(): Rig {
  // The controller's time (conditions, requeues) is fake; the informers run on real time.
  const clock = new FakeClock(T0 + 60_000);
  const ctx = fakeControllerContext({ client: new Client(), clock });
  const controller = new DeploymentController(ctx);
  return {
    client: ctx.client,
    recorder: ctx.events,
    controller,
    factory: ctx.informers,
    clock,
    async start() {
      await ctx.start();
    },
  };
}

const KEY = `${NS}/web`;

async function listRS(c: FakeClient): Promise<ReplicaSet[]> {
  return (await c.list(REPLICASETS, NS)).items.sort(
    (a, b) => a.metadata.name?.localeCompare(b.metadata.name ?? "") ?? 0,
  );
}

const getD = (c: FakeClient) => c.get(DEPLOYMENTS, NS, "web");
const writes = (c: FakeClient) => c.actions.filter((a) => a.verb !== "get" && a.verb !== "list" && a.verb !== "watch");

/** The informers hold what the client holds (same objects, same resourceVersions). */
async function caughtUp(r: Rig): Promise<boolean> {
  for (const res of [DEPLOYMENTS, REPLICASETS, PODS] as ResourceType<KubeObject>[]) {
    const inf = r.factory.informer(res);
    const items = (await r.client.list(res, undefined)).items;
    if (inf.list().length !== items.length) return false;
    for (const o of items) {
      const cached = inf.get(`${o.metadata.namespace}/${o.metadata.name}`);
      if (cached?.metadata.resourceVersion !== o.metadata.resourceVersion) return false;
    }
  }
  return true;
}

async function waitCaughtUp(r: Rig): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await caughtUp(r)) return;
    await new Promise((res) => setTimeout(res, 2));
  }
  assert.fail("informers did not catch up");
}

/** Plays the ReplicaSet controller: status follows spec, `ready` deciding availability. */
async function rsControllerStep(c: FakeClient, ready: (rs: ReplicaSet) => boolean): Promise<void> {
  for (const rs of await listRS(c)) {
    const n = rs.spec?.replicas ?? 1;
    const avail = ready(rs) ? n : 0;
    const want = {
      replicas: n,
      readyReplicas: avail,
      availableReplicas: avail,
      observedGeneration: rs.metadata.generation ?? 1,
    };
    const st = rs.status ?? { replicas: 0 };
    if (
      st.replicas === want.replicas &&
      st.availableReplicas === want.availableReplicas &&
      st.readyReplicas === want.readyReplicas &&
      st.observedGeneration === want.observedGeneration
    )
      continue;
    await c.update(REPLICASETS, NS, { ...rs, status: want }, { subresource: "status" });
  }
}

/** Syncs (and plays the ReplicaSet controller) until a round changes nothing. */
async function settle(
  r: Rig,
  o: { ready?: (rs: ReplicaSet) => boolean; rsController?: boolean; allowErrors?: boolean } = {},
): Promise<void> {
  const ready = o.ready ?? (() => true);
  for (let i = 0; i < 100; i++) {
    await waitCaughtUp(r);
    const before = writes(r.client).length;
    try {
      await r.controller.sync(KEY);
    } catch (err) {
      if (!o.allowErrors) throw err;
    }
    if (o.rsController !== false) await rsControllerStep(r.client, ready);
    if (writes(r.client).length === before) return;
  }
  assert.fail("the deployment did not settle");
}

/** Empties the controller's queue (no workers run here), so a test can see what enqueues next. */
async function drain(r: Rig): Promise<void> {
  while (r.controller.queue.length > 0) {
    const key = await r.controller.queue.get();
    if (key !== undefined) r.controller.queue.done(key);
  }
}

async function setImage(c: FakeClient, image: string): Promise<void> {
  const d = await getD(c);
  if (d.spec) d.spec.template = template(image);
  d.metadata.generation = (d.metadata.generation ?? 1) + 1;
  await c.update(DEPLOYMENTS, NS, d);
}

describe("DeploymentController", () => {
  test("a new Deployment gets one ReplicaSet named <deployment>-<hash>, revision 1, and status", async () => {
    const r = rig();
    r.client.seed(DEPLOYMENTS, deployment({ replicas: 3, image: "v1" }));
    await r.start();
    await settle(r);
    const [rs, ...rest] = await listRS(r.client);
    assert.equal(rest.length, 0);
    const hash = computeHash(template("v1"));
    assert.equal(rs?.metadata.name, `web-${hash}`);
    assert.equal(rs?.spec?.replicas, 3);
    assert.deepEqual(rs?.metadata.labels, { app: "web", [DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY]: hash });
    assert.deepEqual(rs?.spec?.selector, { matchLabels: { app: "web", [DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY]: hash } });
    assert.equal(rs?.spec?.template?.metadata?.labels?.[DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY], hash);
    assert.deepEqual(rs?.metadata.ownerReferences, [
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: "web",
        uid: "uid-web",
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    assert.equal(rs?.metadata.annotations?.[REVISION_ANNOTATION], "1");
    assert.equal(rs?.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION], "3");
    assert.equal(rs?.metadata.annotations?.[MAX_REPLICAS_ANNOTATION], "4");

    const d = await getD(r.client);
    assert.equal(d.metadata.annotations?.[REVISION_ANNOTATION], "1");
    assert.equal(d.status?.observedGeneration, 1);
    assert.equal(d.status?.replicas, 3);
    assert.equal(d.status?.updatedReplicas, 3);
    assert.equal(d.status?.availableReplicas, 3);
    assert.equal(d.status?.unavailableReplicas, undefined);
    assert.equal(getDeploymentCondition(d.status, DEPLOYMENT_AVAILABLE)?.status, "True");
    const progressing = getDeploymentCondition(d.status, DEPLOYMENT_PROGRESSING);
    assert.equal(progressing?.reason, NEW_RS_AVAILABLE_REASON);
    assert.deepEqual(r.recorder.events, [
      {
        object: KEY,
        kind: "Deployment",
        type: "Normal",
        reason: "ScalingReplicaSet",
        message: `Scaled up replica set web-${hash} from 0 to 3`,
      },
    ]);
  });

  test("a new template rolls within maxSurge 1 / maxUnavailable 0 and gets revision 2", async () => {
    const r = rig();
    r.client.seed(DEPLOYMENTS, deployment({ replicas: 3, image: "v1", maxSurge: 1, maxUnavailable: 0 }));
    await r.start();
    await settle(r);
    await setImage(r.client, "v2");
    // Check the bound after every step, as the ReplicaSet controller would see it.
    let maxTotal = 0;
    let minAvailable = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 100; i++) {
      await waitCaughtUp(r);
      const before = writes(r.client).length;
      await r.controller.sync(KEY);
      const rss = await listRS(r.client);
      maxTotal = Math.max(
        maxTotal,
        rss.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0),
      );
      await rsControllerStep(r.client, () => true);
      const after = await listRS(r.client);
      minAvailable = Math.min(
        minAvailable,
        after.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0),
      );
      if (writes(r.client).length === before) break;
    }
    assert.equal(maxTotal, 4);
    assert.equal(minAvailable, 3);
    const [a, b] = await listRS(r.client);
    const byImage = new Map([a, b].map((rs) => [rs?.spec?.template?.spec?.containers[0]?.image, rs]));
    assert.equal(byImage.get("v1")?.spec?.replicas, 0);
    assert.equal(byImage.get("v2")?.spec?.replicas, 3);
    assert.equal(byImage.get("v1")?.metadata.annotations?.[REVISION_ANNOTATION], "1");
    assert.equal(byImage.get("v2")?.metadata.annotations?.[REVISION_ANNOTATION], "2");
    const d = await getD(r.client);
    assert.equal(d.metadata.annotations?.[REVISION_ANNOTATION], "2");
    assert.equal(getDeploymentCondition(d.status, DEPLOYMENT_PROGRESSING)?.reason, NEW_RS_AVAILABLE_REASON);
    const v1 = byImage.get("v1")?.metadata.name;
    const v2 = byImage.get("v2")?.metadata.name;
    assert.deepEqual(
      r.recorder.events.map((e) => e.message),
      [
        `Scaled up replica set ${v1} from 0 to 3`,
        `Scaled up replica set ${v2} from 0 to 1`,
        `Scaled down replica set ${v1} from 3 to 2`,
        `Scaled up replica set ${v2} from 1 to 2`,
        `Scaled down replica set ${v1} from 2 to 1`,
        `Scaled up replica set ${v2} from 2 to 3`,
        `Scaled down replica set ${v1} from 1 to 0`,
      ],
    );

    // `rollout undo`: the template goes back; the old ReplicaSet is the new one, at revision 3.
    await setImage(r.client, "v1");
    await settle(r);
    const undone = new Map((await listRS(r.client)).map((rs) => [rs.spec?.template?.spec?.containers[0]?.image, rs]));
    assert.equal(undone.size, 2, "no third ReplicaSet");
    assert.equal(undone.get("v1")?.spec?.replicas, 3);
    assert.equal(undone.get("v1")?.metadata.annotations?.[REVISION_ANNOTATION], "3");
    assert.equal(undone.get("v1")?.metadata.annotations?.[REVISION_HISTORY_ANNOTATION], "1");
    assert.equal(undone.get("v2")?.spec?.replicas, 0);
    assert.equal((await getD(r.client)).metadata.annotations?.[REVISION_ANNOTATION], "3");
  });

  test("Recreate scales the old ReplicaSet to 0 and waits for its pods before the new one", async () => {
    const r = rig();
    const d = deployment({ replicas: 2, image: "v2", strategy: { type: "Recreate" } });
    const old = replicaSet({ replicas: 2, image: "v1", revision: 1, owner: d, desired: 2, max: 2 });
    const pod: Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "web-old-1",
        namespace: NS,
        uid: "uid-pod",
        labels: old.metadata.labels ?? {},
        ownerReferences: [
          {
            apiVersion: "apps/v1",
            kind: "ReplicaSet",
            name: old.metadata.name ?? "",
            uid: old.metadata.uid ?? "",
            controller: true,
          },
        ],
      },
      status: { phase: "Running" },
    };
    r.client.seed(DEPLOYMENTS, d);
    r.client.seed(REPLICASETS, old);
    r.client.seed(PODS, pod);
    await r.start();
    await settle(r);
    let rss = await listRS(r.client);
    assert.equal(rss.length, 1, "no new ReplicaSet while an old pod runs");
    assert.equal(rss[0]?.spec?.replicas, 0);
    // The last old pod gone brings the Deployment back by itself.
    await drain(r);
    await r.client.delete(PODS, NS, "web-old-1");
    await waitCaughtUp(r);
    assert.equal(r.controller.queue.length, 1);
    await settle(r);
    rss = await listRS(r.client);
    assert.equal(rss.length, 2);
    const fresh = rss.find((rs) => rs.metadata.uid !== old.metadata.uid);
    assert.equal(fresh?.spec?.replicas, 2);
    assert.equal(fresh?.metadata.annotations?.[REVISION_ANNOTATION], "2");
  });

  test("paused: no rollout, but scaling applies; resuming rolls out", async () => {
    const r = rig();
    r.client.seed(DEPLOYMENTS, deployment({ replicas: 3, image: "v1", paused: true }));
    await r.start();
    await settle(r);
    assert.equal((await listRS(r.client)).length, 0, "a paused Deployment creates nothing");
    let d = await getD(r.client);
    assert.equal(getDeploymentCondition(d.status, DEPLOYMENT_PROGRESSING)?.reason, PAUSED_DEPLOY_REASON);
    assert.equal(getDeploymentCondition(d.status, DEPLOYMENT_PROGRESSING)?.status, "Unknown");

    if (d.spec) d.spec.paused = false;
    await r.client.update(DEPLOYMENTS, NS, d);
    await settle(r);
    d = await getD(r.client);
    assert.equal((await listRS(r.client))[0]?.spec?.replicas, 3);

    // Paused again with a new template and new replicas: only the scale happens.
    if (d.spec) {
      d.spec.paused = true;
      d.spec.template = template("v2");
      d.spec.replicas = 5;
    }
    await r.client.update(DEPLOYMENTS, NS, d);
    await settle(r);
    const rss = await listRS(r.client);
    assert.equal(rss.length, 1);
    assert.equal(rss[0]?.spec?.replicas, 5);
    assert.equal(rss[0]?.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION], "5");

    d = await getD(r.client);
    if (d.spec) d.spec.paused = false;
    await r.client.update(DEPLOYMENTS, NS, d);
    await settle(r);
    const progressingReasons = r.client
      .actionsOf("update", DEPLOYMENTS)
      .filter((a) => a.subresource === "status")
      .map((a) => getDeploymentCondition((a.object as Deployment).status, DEPLOYMENT_PROGRESSING)?.reason);
    const resumedAt = progressingReasons.lastIndexOf(RESUMED_DEPLOY_REASON);
    assert.ok(resumedAt > progressingReasons.lastIndexOf(PAUSED_DEPLOY_REASON), "resuming is recorded");
    assert.equal(progressingReasons[resumedAt + 1], NEW_REPLICASET_REASON, "then the rollout starts");
    const after = await listRS(r.client);
    assert.equal(after.length, 2);
    assert.deepEqual(after.map((rs) => rs.spec?.replicas).sort(), [0, 5]);
  });

  test("a replicas change mid-rollout scales the ReplicaSets in proportion", async () => {
    const r = rig();
    const d = deployment({ replicas: 10, image: "v2", maxSurge: 3, maxUnavailable: 2 });
    r.client.seed(DEPLOYMENTS, d);
    r.client.seed(REPLICASETS, replicaSet({ replicas: 10, image: "v1", revision: 1, owner: d, desired: 10, max: 13 }));
    await r.start();
    // The new pods never become available: the rollout stops at 8 old + 5 new.
    const isNew = (rs: ReplicaSet) => rs.spec?.template?.spec?.containers[0]?.image === "v2";
    await settle(r, { ready: (rs) => !isNew(rs) });
    let rss = await listRS(r.client);
    assert.deepEqual(rss.map((rs) => [isNew(rs), rs.spec?.replicas]).sort(), [
      [false, 8],
      [true, 5],
    ]);
    const cur = await getD(r.client);
    if (cur.spec) cur.spec.replicas = 20;
    await r.client.update(DEPLOYMENTS, NS, cur);
    await settle(r, { ready: (rs) => !isNew(rs) });
    rss = await listRS(r.client);
    assert.deepEqual(rss.map((rs) => [isNew(rs), rs.spec?.replicas]).sort(), [
      [false, 14],
      [true, 9],
    ]);
    for (const rs of rss) {
      assert.equal(rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION], "20");
      assert.equal(rs.metadata.annotations?.[MAX_REPLICAS_ANNOTATION], "23");
    }
  });

  test("the deprecated rollback annotation takes the Deployment back to a revision's template", async () => {
    const r = rig();
    const d = deployment({
      image: "v2",
      annotations: { [REVISION_ANNOTATION]: "2", [DEPRECATED_ROLLBACK_TO]: "0" },
    });
    r.client.seed(DEPLOYMENTS, d);
    const v1 = replicaSet({ replicas: 0, image: "v1", revision: 1, owner: d, desired: 3, max: 4 });
    v1.metadata.annotations = { ...v1.metadata.annotations, "kubernetes.io/change-cause": "first" };
    r.client.seed(REPLICASETS, v1, replicaSet({ replicas: 3, image: "v2", revision: 2, owner: d, desired: 3, max: 4 }));
    await r.start();
    await waitCaughtUp(r);
    await r.controller.sync(KEY);
    const rolled = await getD(r.client);
    assert.equal(rolled.spec?.template?.spec?.containers[0]?.image, "v1");
    assert.equal(rolled.metadata.annotations?.[DEPRECATED_ROLLBACK_TO], undefined);
    assert.equal(rolled.metadata.annotations?.["kubernetes.io/change-cause"], "first");
    assert.deepEqual(r.recorder.events.at(-1), {
      object: KEY,
      kind: "Deployment",
      type: "Normal",
      reason: "DeploymentRollback",
      message: 'Rolled back deployment "web" to revision 1',
    });
  });

  test("adopts a matching orphan ReplicaSet and releases one that no longer matches", async () => {
    const r = rig();
    const d = deployment({ replicas: 3, image: "v1" });
    const orphan = replicaSet({ replicas: 3, image: "v1", revision: 1, owner: null, desired: 3, max: 4 });
    const stray = replicaSet({ replicas: 0, image: "v0", owner: d, name: "web-stray" });
    stray.metadata.labels = { app: "other" };
    r.client.seed(DEPLOYMENTS, d);
    r.client.seed(REPLICASETS, orphan, stray);
    await r.start();
    await settle(r);
    const rss = await listRS(r.client);
    assert.equal(rss.length, 2, "the orphan is adopted, not replaced");
    const adopted = rss.find((rs) => rs.metadata.name === orphan.metadata.name);
    assert.equal(adopted?.metadata.ownerReferences?.[0]?.uid, "uid-web");
    assert.equal(adopted?.metadata.ownerReferences?.[0]?.controller, true);
    assert.deepEqual(rss.find((rs) => rs.metadata.name === "web-stray")?.metadata.ownerReferences, []);
  });

  test("revisionHistoryLimit: old ReplicaSets at 0 beyond the limit are deleted, oldest revision first", async () => {
    const r = rig();
    const d = deployment({ replicas: 2, image: "v4", revisionHistoryLimit: 1 });
    r.client.seed(DEPLOYMENTS, d);
    for (const v of [1, 2, 3])
      r.client.seed(REPLICASETS, replicaSet({ replicas: 0, image: `v${v}`, revision: v, owner: d }));
    await r.start();
    await settle(r);
    const revisions = (await listRS(r.client)).map((rs) => rs.metadata.annotations?.[REVISION_ANNOTATION]).sort();
    assert.deepEqual(revisions, ["3", "4"]);
  });

  test("a hash collision bumps collisionCount and the next sync creates under a new name", async () => {
    const r = rig();
    const d = deployment({ replicas: 1, image: "v1" });
    const squatter = replicaSet({
      replicas: 0,
      image: "other",
      owner: null,
      name: `web-${computeHash(template("v1"))}`,
    });
    squatter.metadata.labels = { app: "squatter" };
    r.client.seed(DEPLOYMENTS, d);
    r.client.seed(REPLICASETS, squatter);
    await r.start();
    await settle(r, { allowErrors: true });
    const fresh = await getD(r.client);
    assert.equal(fresh.status?.collisionCount, 1);
    const ours = (await listRS(r.client)).filter((rs) => rs.metadata.ownerReferences?.[0]?.uid === "uid-web");
    assert.equal(ours.length, 1);
    assert.equal(ours[0]?.metadata.name, `web-${computeHash(template("v1"), 1)}`);
  });

  test("a failed ReplicaSet create is Progressing=False ReplicaSetCreateError with an event", async () => {
    const r = rig();
    r.client.failRSCreates = true;
    r.client.seed(DEPLOYMENTS, deployment({ replicas: 1, image: "v1" }));
    await r.start();
    await waitCaughtUp(r);
    await assert.rejects(r.controller.sync(KEY), /exceeded quota/);
    const d = await getD(r.client);
    const c = getDeploymentCondition(d.status, DEPLOYMENT_PROGRESSING);
    assert.equal(c?.status, "False");
    assert.equal(c?.reason, FAILED_RS_CREATE_REASON);
    assert.match(c?.message ?? "", /^Failed to create new replica set "web-[456789bcdf]+": .*exceeded quota/);
    assert.equal(r.recorder.events.at(-1)?.reason, FAILED_RS_CREATE_REASON);
  });

  test("a stuck rollout is requeued for its deadline and then reported ProgressDeadlineExceeded", async () => {
    const r = rig();
    r.client.seed(DEPLOYMENTS, deployment({ replicas: 1, image: "v1", progressDeadlineSeconds: 30 }));
    await r.start();
    await settle(r, { ready: () => false });
    assert.ok(r.controller.queue.delayedCount >= 1, "a delayed requeue is pending");
    await drain(r);
    const d = await getD(r.client);
    const since = Date.parse(getDeploymentCondition(d.status, DEPLOYMENT_PROGRESSING)?.lastUpdateTime ?? "");
    // Due a second after the deadline.
    assert.equal(r.clock.nextAt(), since + 31_000);
    r.clock.step(30_999);
    assert.equal(r.controller.queue.length, 0, "not before");
    r.clock.step(1);
    assert.equal(r.controller.queue.length, 1, "the requeue fired");
    await settle(r, { ready: () => false });
    const after = getDeploymentCondition((await getD(r.client)).status, DEPLOYMENT_PROGRESSING);
    assert.equal(after?.status, "False");
    assert.equal(after?.reason, TIMED_OUT_REASON);
  });
});
