// The Deployment controller with the ReplicaSet controller, in-process, against the REAL API
// server (etcd-backed, separate process). No kubelets and no scheduler: the test plays the
// kubelet's status writes, making each pod Running and Ready as it appears (pods whose image
// starts with "stuck/" are left unready), and samples every pod event to check the rollout's
// bounds.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isConflict, isNotFound, isStatusError } from "#pkg/api/errors.js";
import { DEPLOYMENTS, EVENTS, PODS, REPLICASETS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { Deployment, ReplicaSet } from "#pkg/api/types/apps.js";
import type { Event, Pod } from "#pkg/api/types/core.js";
import { Informer } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import { isPodReady } from "#pkg/controller/pod-util.js";
import { getDeploymentCondition } from "../../controller-manager/deployment/conditions.js";
import { DeploymentController } from "../../controller-manager/deployment/deployment-controller.js";
import {
  DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
} from "../../controller-manager/deployment/util.js";
import { REPLICA_SET_KIND, ReplicaSetController } from "../../controller-manager/replicaset/replica-set.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type RunningController, runController } from "../harness/controllers.js";
import { type DeploymentOptions, deployment } from "../harness/objects.js";
import { waitFor } from "../harness/wait.js";

const NS = "default";
const TIMEOUT_MS = 60_000;
const HOLD_FINALIZER = "kubeling.io/test-hold";

/** A Deployment of one container "c" running o.image with the image's own command. */
const newDeployment = (
  name: string,
  { replicas, ...o }: DeploymentOptions & { replicas: number; image: string },
): Deployment => deployment(name, replicas, { ...o, command: null });

const imageOf = (x: { spec?: { template?: { spec?: { containers: { image?: string }[] } } } }) =>
  x.spec?.template?.spec?.containers[0]?.image;

/**
 * The test's kubelet and observer: a pod informer that marks pods Running and Ready as they
 * appear (unless their image starts with "stuck/"), and lets tests sample every pod event.
 */
class PodWatcher {
  readonly informer: Informer<Pod>;
  readonly #client: ApiClient;
  readonly #marking = new Set<string>();
  readonly #samplers = new Set<(pods: Pod[]) => void>();
  readonly #errors: unknown[] = [];

  constructor(client: ApiClient) {
    this.#client = client;
    this.informer = new Informer<Pod>(client, PODS, { namespace: NS });
    this.informer.on("add", (p) => this.#onEvent(p));
    this.informer.on("update", (_o, p) => this.#onEvent(p));
    this.informer.on("delete", () => this.#sample());
  }

  get errors(): readonly unknown[] {
    return this.#errors;
  }

  /** Active pods of app (not terminating). */
  pods(app: string): Pod[] {
    return this.informer.list().filter((p) => p.metadata.labels?.app === app && !p.metadata.deletionTimestamp);
  }

  /** Calls fn with the pod list after every pod event until the returned stop is called. */
  sample(fn: (pods: Pod[]) => void): () => void {
    this.#samplers.add(fn);
    fn(this.informer.list());
    return () => this.#samplers.delete(fn);
  }

  #sample(): void {
    const pods = this.informer.list();
    for (const s of this.#samplers) s(pods);
  }

  #onEvent(pod: Pod): void {
    this.#sample();
    const image = pod.spec?.containers[0]?.image ?? "";
    if (pod.metadata.deletionTimestamp || isPodReady(pod) || image.startsWith("stuck/")) return;
    const uid = pod.metadata.uid ?? "";
    if (this.#marking.has(uid)) return;
    this.#marking.add(uid);
    this.#markReady(pod)
      .catch((err: unknown) => {
        if (!isNotFound(err)) this.#errors.push(err);
      })
      .finally(() => this.#marking.delete(uid));
  }

  async #markReady(pod: Pod): Promise<void> {
    let cur = pod;
    for (let attempt = 0; ; attempt++) {
      const now = metaTime();
      const next: Pod = {
        ...structuredClone(cur),
        status: {
          ...(cur.status ?? {}),
          phase: "Running",
          conditions: [
            { type: "Ready", status: "True", lastTransitionTime: now },
            { type: "ContainersReady", status: "True", lastTransitionTime: now },
          ],
        },
      };
      try {
        await this.#client.update(PODS, NS, next, { subresource: "status" });
        return;
      } catch (err) {
        if (!isConflict(err) || attempt > 10) throw err;
        cur = await this.#client.get(PODS, NS, pod.metadata.name ?? "");
        if (cur.metadata.deletionTimestamp || isPodReady(cur)) return;
      }
    }
  }
}

describe("deployment controller against a real API server", () => {
  let server: TestApiServer | undefined;
  let deployments: RunningController<DeploymentController> | undefined;
  let replicasets: RunningController<ReplicaSetController> | undefined;
  let watcher: PodWatcher | undefined;
  const stopWatcher = new AbortController();
  const client = () => {
    if (!server) throw new Error("API server not started");
    return server.client;
  };
  const pods = () => {
    if (!watcher) throw new Error("pod watcher not started");
    return watcher;
  };

  before(async () => {
    server = await startApiServer();
    watcher = new PodWatcher(server.client);
    void watcher.informer.run(stopWatcher.signal).catch(() => undefined);
    await watcher.informer.waitForSync();
    replicasets = runController(server, (ctx) => new ReplicaSetController(ctx, REPLICA_SET_KIND));
    deployments = runController(server, (ctx) => new DeploymentController(ctx));
  });
  after(async () => {
    stopWatcher.abort();
    await deployments?.stop();
    await replicasets?.stop();
    await server?.stop();
    assert.deepEqual(watcher?.errors ?? [], [], "the test's pod status writes failed");
  });

  async function replicaSetsOf(name: string): Promise<ReplicaSet[]> {
    const list = await client().list(REPLICASETS, NS, { labelSelector: `app=${name}` });
    return list.items.sort((a, b) => (revisionOf(a) ?? 0) - (revisionOf(b) ?? 0));
  }

  const revisionOf = (rs: ReplicaSet) => {
    const v = rs.metadata.annotations?.[REVISION_ANNOTATION];
    return v === undefined ? undefined : Number(v);
  };

  /** Waits until the Deployment has rolled out: every replica updated and available, latest spec seen. */
  async function waitRolledOut(name: string): Promise<Deployment> {
    return waitFor(
      async () => {
        const d = await client().get(DEPLOYMENTS, NS, name);
        const st = d.status ?? {};
        const replicas = d.spec?.replicas ?? 1;
        const done =
          (st.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) &&
          (st.updatedReplicas ?? 0) === replicas &&
          (st.replicas ?? 0) === replicas &&
          (st.availableReplicas ?? 0) === replicas &&
          getDeploymentCondition(st, "Progressing")?.reason === "NewReplicaSetAvailable";
        return done ? d : undefined;
      },
      { timeoutMs: TIMEOUT_MS, message: `deployment ${name} rolled out` },
    );
  }

  async function setImage(name: string, image: string): Promise<void> {
    // What `kubectl set image` sends.
    await client().patch(
      DEPLOYMENTS,
      NS,
      name,
      { spec: { template: { spec: { containers: [{ name: "c", image }] } } } },
      "strategic",
    );
  }

  test("create, roll out a new image within maxSurge/maxUnavailable, then undo to revision 3", async () => {
    const c = client();
    await c.create(
      DEPLOYMENTS,
      NS,
      newDeployment("web", { replicas: 4, image: "app:v1", maxSurge: 1, maxUnavailable: 1 }),
    );
    let d = await waitRolledOut("web");
    const [rs1, ...none] = await replicaSetsOf("web");
    assert.equal(none.length, 0);
    const hash = rs1?.metadata.labels?.[DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY] ?? "";
    assert.match(hash, /^[456789bcdf]+$/);
    assert.equal(rs1?.metadata.name, `web-${hash}`);
    assert.equal(rs1?.spec?.selector.matchLabels?.[DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY], hash);
    assert.equal(rs1?.spec?.template?.metadata?.labels?.[DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY], hash);
    assert.equal(rs1?.metadata.ownerReferences?.[0]?.uid, d.metadata.uid);
    assert.equal(revisionOf(rs1 as ReplicaSet), 1);
    assert.equal(d.metadata.annotations?.[REVISION_ANNOTATION], "1");
    assert.equal(getDeploymentCondition(d.status, "Available")?.reason, "MinimumReplicasAvailable");
    assert.equal(pods().pods("web").length, 4);

    // Roll out v2, sampling every pod event: at most 4 + 1 pods, at least 4 - 1 ready.
    let maxTotal = 0;
    let minReady = Number.POSITIVE_INFINITY;
    const stop = pods().sample(() => {
      const active = pods().pods("web");
      maxTotal = Math.max(maxTotal, active.length);
      minReady = Math.min(minReady, active.filter(isPodReady).length);
    });
    await setImage("web", "app:v2");
    d = await waitRolledOut("web");
    await waitFor(
      () => {
        const active = pods().pods("web");
        return active.length === 4 && active.every((p) => p.spec?.containers[0]?.image === "app:v2");
      },
      { timeoutMs: TIMEOUT_MS, message: "only v2 pods left" },
    );
    stop();
    assert.ok(maxTotal <= 5, `pods exceeded replicas + maxSurge: ${maxTotal}`);
    assert.ok(minReady >= 3, `ready pods fell below replicas - maxUnavailable: ${minReady}`);
    const [old, cur] = await replicaSetsOf("web");
    assert.equal(imageOf(old ?? {}), "app:v1");
    assert.equal(old?.spec?.replicas, 0);
    assert.equal(imageOf(cur ?? {}), "app:v2");
    assert.equal(revisionOf(cur as ReplicaSet), 2);
    assert.equal(d.metadata.annotations?.[REVISION_ANNOTATION], "2");

    // `kubectl rollout undo`: client-side, a JSON patch of the template (without the hash
    // label) and the annotations of the revision to go back to.
    const template = structuredClone(old?.spec?.template ?? {});
    if (template.metadata?.labels) delete template.metadata.labels[DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY];
    const annotations: Record<string, string> = {};
    const curAnnotations = (await c.get(DEPLOYMENTS, NS, "web")).metadata.annotations ?? {};
    if (curAnnotations[REVISION_ANNOTATION]) annotations[REVISION_ANNOTATION] = curAnnotations[REVISION_ANNOTATION];
    await c.patch(
      DEPLOYMENTS,
      NS,
      "web",
      [
        { op: "replace", path: "/spec/template", value: template },
        { op: "replace", path: "/metadata/annotations", value: annotations },
      ],
      "json",
    );
    d = await waitRolledOut("web");
    const after = await replicaSetsOf("web");
    assert.equal(after.length, 2, "the old ReplicaSet is reused, not a third one made");
    const back = after.find((rs) => rs.metadata.uid === old?.metadata.uid);
    assert.equal(revisionOf(back as ReplicaSet), 3);
    assert.equal(back?.metadata.annotations?.[REVISION_HISTORY_ANNOTATION], "1");
    assert.equal(back?.spec?.replicas, 4);
    assert.equal(after.find((rs) => rs.metadata.uid === cur?.metadata.uid)?.spec?.replicas, 0);
    assert.equal(d.metadata.annotations?.[REVISION_ANNOTATION], "3");

    const messages = await waitFor(
      async () => {
        const evs = (await c.list(EVENTS, NS)).items.filter(
          (e: Event) => e.involvedObject?.kind === "Deployment" && e.involvedObject?.name === "web",
        );
        const ms = evs.map((e) => e.message ?? "");
        return ms.includes(`Scaled up replica set ${rs1?.metadata.name} from 0 to 4`) &&
          ms.some((m) => m.startsWith(`Scaled down replica set ${cur?.metadata.name} from`))
          ? evs
          : undefined;
      },
      { timeoutMs: TIMEOUT_MS, message: "ScalingReplicaSet events" },
    );
    for (const e of messages) {
      assert.equal(e.reason, "ScalingReplicaSet");
      assert.equal(e.source?.component, "deployment-controller");
    }
  });

  test("Recreate: old pods are all gone before any new one starts", async () => {
    const c = client();
    await c.create(
      DEPLOYMENTS,
      NS,
      newDeployment("rec", { replicas: 3, image: "app:v1", recreate: true, finalizers: [HOLD_FINALIZER] }),
    );
    await waitRolledOut("rec");
    // Never a v2 pod beside a v1 pod, terminating ones included.
    let overlap = false;
    const stop = pods().sample((all) => {
      const mine = all.filter((p) => p.metadata.labels?.app === "rec");
      const images = new Set(mine.map((p) => p.spec?.containers[0]?.image));
      if (images.has("app:v1") && images.has("app:v2")) overlap = true;
    });
    await setImage("rec", "app:v2");
    // The old ReplicaSet goes to 0; its pods stay terminating, held by the finalizer.
    const held = await waitFor(
      async () => {
        const [old] = await replicaSetsOf("rec");
        const all = pods()
          .informer.list()
          .filter((p) => p.metadata.labels?.app === "rec");
        return old?.spec?.replicas === 0 && all.length === 3 && all.every((p) => p.metadata.deletionTimestamp)
          ? all
          : undefined;
      },
      { timeoutMs: TIMEOUT_MS, message: "old pods terminating" },
    );
    await waitFor(
      () => {
        const ctl = deployments?.controller;
        return ctl && ctl.queue.length === 0 && ctl.queue.processingCount === 0;
      },
      { timeoutMs: TIMEOUT_MS, message: "the deployment controller to settle" },
    );
    const waiting = await replicaSetsOf("rec");
    assert.ok(
      waiting.every((rs) => imageOf(rs) === "app:v1" || (rs.spec?.replicas ?? 0) === 0),
      "no new replicas while old pods remain",
    );
    // Let the old pods go: the new ReplicaSet comes up.
    for (const p of held) {
      await c.patch(PODS, NS, p.metadata.name ?? "", { metadata: { finalizers: null } }, "merge");
    }
    const d = await waitRolledOut("rec");
    stop();
    assert.equal(overlap, false, "a v2 pod ran beside a v1 pod");
    const rss = await replicaSetsOf("rec");
    assert.equal(rss.length, 2);
    assert.equal(imageOf(rss[1] ?? {}), "app:v2");
    assert.equal(rss[1]?.spec?.replicas, 3);
    assert.equal(d.metadata.annotations?.[REVISION_ANNOTATION], "2");
    for (const p of pods()
      .informer.list()
      .filter((x) => x.metadata.labels?.app === "rec")) {
      await c
        .patch(PODS, NS, p.metadata.name ?? "", { metadata: { finalizers: null } }, "merge")
        .catch(() => undefined);
    }
  });

  test("pause: a new template waits, scaling still applies; resume rolls it out", async () => {
    const c = client();
    await c.create(DEPLOYMENTS, NS, newDeployment("pz", { replicas: 2, image: "app:v1" }));
    await waitRolledOut("pz");
    const reasons: string[] = [];
    const dInformer = new Informer<Deployment>(c, DEPLOYMENTS, { namespace: NS });
    const record = (d: Deployment) => {
      const r = d.metadata.name === "pz" ? getDeploymentCondition(d.status, "Progressing")?.reason : undefined;
      if (r && reasons.at(-1) !== r) reasons.push(r);
    };
    dInformer.on("add", record);
    dInformer.on("update", (_o, d) => record(d));
    const ac = new AbortController();
    void dInformer.run(ac.signal).catch(() => undefined);
    try {
      await c.patch(DEPLOYMENTS, NS, "pz", { spec: { paused: true } }, "merge");
      await waitFor(
        async () =>
          getDeploymentCondition((await c.get(DEPLOYMENTS, NS, "pz")).status, "Progressing")?.reason ===
          "DeploymentPaused",
        { timeoutMs: TIMEOUT_MS, message: "Progressing DeploymentPaused" },
      );
      await setImage("pz", "app:v2");
      await c.patch(DEPLOYMENTS, NS, "pz", { spec: { replicas: 3 } }, "merge");
      await waitFor(
        async () => {
          const d = await c.get(DEPLOYMENTS, NS, "pz");
          const rss = await replicaSetsOf("pz");
          return (d.status?.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) &&
            rss.length === 1 &&
            rss[0]?.spec?.replicas === 3 &&
            pods().pods("pz").length === 3
            ? true
            : undefined;
        },
        { timeoutMs: TIMEOUT_MS, message: "the paused deployment scaled to 3 on its old template" },
      );
      assert.ok(
        pods()
          .pods("pz")
          .every((p) => p.spec?.containers[0]?.image === "app:v1"),
      );
      await c.patch(DEPLOYMENTS, NS, "pz", { spec: { paused: false } }, "merge");
      await waitRolledOut("pz");
      const rss = await replicaSetsOf("pz");
      assert.deepEqual(
        rss.map((rs) => [imageOf(rs), rs.spec?.replicas]),
        [
          ["app:v1", 0],
          ["app:v2", 3],
        ],
      );
      await waitFor(() => reasons.includes("NewReplicaSetAvailable") && reasons.at(-1) === "NewReplicaSetAvailable", {
        timeoutMs: TIMEOUT_MS,
        message: "the informer to see the end",
      });
      const paused = reasons.indexOf("DeploymentPaused");
      const resumed = reasons.indexOf("DeploymentResumed");
      assert.ok(paused >= 0 && resumed > paused, `Progressing reasons: ${reasons.join(", ")}`);
    } finally {
      ac.abort();
    }
  });

  test("scaling mid-rollout scales the old and new ReplicaSets in proportion", async () => {
    const c = client();
    await c.create(
      DEPLOYMENTS,
      NS,
      newDeployment("prop", { replicas: 10, image: "app:v1", maxSurge: 3, maxUnavailable: 2 }),
    );
    await waitRolledOut("prop");
    // The new pods never become ready: the rollout stops at 8 old + 5 new (13 = 10 + maxSurge).
    await setImage("prop", "stuck/app:v2");
    const sizes = async () => (await replicaSetsOf("prop")).map((rs) => [imageOf(rs), rs.spec?.replicas]);
    await waitFor(
      async () =>
        JSON.stringify(await sizes()) ===
        JSON.stringify([
          ["app:v1", 8],
          ["stuck/app:v2", 5],
        ]),
      { timeoutMs: TIMEOUT_MS, message: "the rollout stuck at 8 old + 5 new" },
    );
    await c.patch(DEPLOYMENTS, NS, "prop", { spec: { replicas: 20 } }, "merge");
    // 23 = 20 + maxSurge, spread 13 -> 23: 8 -> 14, 5 -> 9.
    await waitFor(
      async () =>
        JSON.stringify(await sizes()) ===
        JSON.stringify([
          ["app:v1", 14],
          ["stuck/app:v2", 9],
        ]),
      { timeoutMs: TIMEOUT_MS, message: "proportional sizes 14 + 9" },
    );
    await waitFor(() => pods().pods("prop").length === 23, { timeoutMs: TIMEOUT_MS, message: "23 pods" });
  });

  test("a rollout that makes no progress for progressDeadlineSeconds is ProgressDeadlineExceeded", async () => {
    const c = client();
    await c.create(
      DEPLOYMENTS,
      NS,
      newDeployment("slow", {
        replicas: 2,
        image: "app:v1",
        progressDeadlineSeconds: 2,
        maxSurge: 1,
        maxUnavailable: 0,
      }),
    );
    await waitRolledOut("slow");
    await setImage("slow", "stuck/app:v2");
    const d = await waitFor(
      async () => {
        const x = await c.get(DEPLOYMENTS, NS, "slow");
        return getDeploymentCondition(x.status, "Progressing")?.reason === "ProgressDeadlineExceeded" ? x : undefined;
      },
      { timeoutMs: TIMEOUT_MS, message: "ProgressDeadlineExceeded" },
    );
    const cond = getDeploymentCondition(d.status, "Progressing");
    assert.equal(cond?.status, "False");
    const [, stuck] = await replicaSetsOf("slow");
    assert.equal(cond?.message, `ReplicaSet "${stuck?.metadata.name}" has timed out progressing.`);
    // The old pods keep serving.
    assert.equal(pods().pods("slow").filter(isPodReady).length, 2);
    assert.equal(getDeploymentCondition(d.status, "Available")?.status, "True");
  });

  test("revisionHistoryLimit: old ReplicaSets beyond the limit are deleted", async () => {
    const c = client();
    await c.create(DEPLOYMENTS, NS, newDeployment("hist", { replicas: 1, image: "app:v1", revisionHistoryLimit: 1 }));
    await waitRolledOut("hist");
    for (const v of ["v2", "v3", "v4"]) {
      await setImage("hist", `app:${v}`);
      await waitRolledOut("hist");
    }
    const rss = await waitFor(
      async () => {
        const list = await replicaSetsOf("hist");
        return list.length === 2 ? list : undefined;
      },
      { timeoutMs: TIMEOUT_MS, message: "history cleaned up to one old ReplicaSet" },
    );
    assert.deepEqual(
      rss.map((rs) => [imageOf(rs), revisionOf(rs)]),
      [
        ["app:v3", 3],
        ["app:v4", 4],
      ],
    );
  });

  test("invalid Deployments are refused with upstream's messages", async () => {
    const c = client();
    const invalid = async (d: Deployment): Promise<string> => {
      try {
        await c.create(DEPLOYMENTS, NS, d);
      } catch (err) {
        assert.ok(isStatusError(err) && err.code === 422, String(err));
        return err.message;
      }
      assert.fail("created");
    };
    const mismatch = newDeployment("bad1", { replicas: 1, image: "app:v1" });
    if (mismatch.spec?.template.metadata) mismatch.spec.template.metadata.labels = { app: "other" };
    assert.match(
      await invalid(mismatch),
      /spec\.template\.metadata\.labels: Invalid value: .*`selector` does not match template `labels`/,
    );
    assert.match(
      await invalid(newDeployment("bad2", { replicas: -1, image: "app:v1" })),
      /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/,
    );
    assert.match(
      await invalid(newDeployment("bad3", { replicas: 1, image: "app:v1", maxSurge: 0, maxUnavailable: 0 })),
      /spec\.strategy\.rollingUpdate\.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0/,
    );
  });
});
