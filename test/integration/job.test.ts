// The Job and TTL-after-finished controllers in a real kubeling-controller-manager (under its own
// identity, so under the bootstrap RBAC roles) against a real API server and etcd. No kubelet
// runs: the test plays it, marking each new pod Running and then, unless held, finished with the
// exit code its image names ("exit/0", "exit/1"). Pod counts are sampled from every pod event.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isConflict, isNotFound } from "#pkg/api/errors.js";
import { EVENTS, JOBS, PODS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { Job } from "#pkg/api/types/batch.js";
import type { Event, Pod } from "#pkg/api/types/core.js";
import { Informer } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import { CONTROLLER_MANAGER_USER } from "#pkg/pki/cluster.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { waitFor } from "../harness/wait.js";

const NS = "default";
const TRACKING = "batch.kubernetes.io/job-tracking";
const CM_ARGS = [
  "--leader-elect=false",
  "--controllers=job-controller,ttl-after-finished-controller,garbagecollector",
  // Failures are replaced after 1 s, 2 s, ... instead of upstream's 10 s, 20 s, ...
  "--job-pod-failure-backoff=1s",
];

const isFinished = (p: Pod) => p.status?.phase === "Succeeded" || p.status?.phase === "Failed";
const isRunning = (p: Pod) => !isFinished(p) && !p.metadata.deletionTimestamp;

/**
 * The test's kubelet: every new pod of a Job goes Running, then after `runMs` Succeeded or Failed
 * by the exit code in its image name ("exit/<code>"), unless `hold` is set (then it stays Running
 * until release()). It keeps every pod it saw and the most pods it saw running at once, per Job.
 */
class PlayKubelet {
  readonly informer: Informer<Pod>;
  readonly seen = new Map<string, Pod>();
  readonly maxRunning = new Map<string, number>();
  hold = false;
  readonly #client: ApiClient;
  readonly #started = new Set<string>();
  readonly #held: Pod[] = [];
  readonly #errors: unknown[] = [];
  readonly #runMs: number;

  constructor(client: ApiClient, runMs = 300) {
    this.#client = client;
    this.#runMs = runMs;
    this.informer = new Informer<Pod>(client, PODS, { namespace: NS });
    this.informer.on("add", (p) => this.#onPod(p));
    this.informer.on("update", (_o, p) => this.#onPod(p));
    this.informer.on("delete", () => this.#sample());
  }

  get errors(): readonly unknown[] {
    return this.#errors;
  }

  /** Pods of the Job ever seen (by name). */
  podsOf(job: string): Pod[] {
    return [...this.seen.values()].filter((p) => p.metadata.labels?.["batch.kubernetes.io/job-name"] === job);
  }

  #sample(): void {
    const running = new Map<string, number>();
    for (const p of this.informer.list()) {
      const job = p.metadata.labels?.["batch.kubernetes.io/job-name"];
      if (job && isRunning(p)) running.set(job, (running.get(job) ?? 0) + 1);
    }
    for (const [job, n] of running) this.maxRunning.set(job, Math.max(n, this.maxRunning.get(job) ?? 0));
  }

  #onPod(pod: Pod): void {
    this.seen.set(pod.metadata.name ?? "", pod);
    this.#sample();
    const uid = pod.metadata.uid ?? "";
    if (pod.metadata.deletionTimestamp || this.#started.has(uid)) return;
    this.#started.add(uid);
    this.#setStatus(pod, "Running")
      .then(() => {
        if (this.hold) this.#held.push(pod);
        else setTimeout(() => this.#finish(pod), this.#runMs);
      })
      .catch((err: unknown) => {
        if (!isNotFound(err)) this.#errors.push(err);
      });
  }

  /** Lets every held pod finish. */
  release(): void {
    this.hold = false;
    for (const p of this.#held.splice(0)) this.#finish(p);
  }

  #finish(pod: Pod): void {
    const code = Number((pod.spec?.containers[0]?.image ?? "exit/0").split("/")[1] ?? 0);
    this.#setStatus(pod, code === 0 ? "Succeeded" : "Failed", code).catch((err: unknown) => {
      if (!isNotFound(err)) this.#errors.push(err);
    });
  }

  async #setStatus(pod: Pod, phase: "Running" | "Succeeded" | "Failed", exitCode?: number): Promise<void> {
    const now = metaTime();
    for (let attempt = 0; ; attempt++) {
      const cur = await this.#client.get(PODS, NS, pod.metadata.name ?? "");
      if (cur.metadata.deletionTimestamp && phase === "Running") return;
      const state =
        phase === "Running"
          ? { running: { startedAt: now } }
          : { terminated: { exitCode: exitCode ?? 0, startedAt: now, finishedAt: now } };
      cur.status = {
        ...cur.status,
        phase,
        conditions: [{ type: "Ready", status: phase === "Running" ? "True" : "False", lastTransitionTime: now }],
        containerStatuses: [
          { name: "c", image: "busybox", imageID: "", ready: phase === "Running", restartCount: 0, state },
        ],
      };
      try {
        await this.#client.update(PODS, NS, cur, { subresource: "status" });
        return;
      } catch (err) {
        if (!isConflict(err) || attempt > 10) throw err;
      }
    }
  }
}

function job(name: string, spec: Partial<NonNullable<Job["spec"]>> & { image?: string } = {}): Job {
  const { image = "exit/0", ...rest } = spec;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name },
    spec: {
      template: { spec: { restartPolicy: "Never", containers: [{ name: "c", image }] } },
      ...rest,
    },
  };
}

let srv: TestApiServer;
let cm: TestControllerManager;
let kubelet: PlayKubelet;
const signal = new AbortController();

const getJob = (name: string) => srv.client.get(JOBS, NS, name);
const cond = (j: Job, type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === "True");

async function waitJobCondition(name: string, type: string, timeoutMs = 60_000): Promise<Job> {
  return waitFor(
    async () => {
      const j = await getJob(name);
      return cond(j, type) ? j : undefined;
    },
    { timeoutMs, intervalMs: 100, message: `job ${name} ${type}` },
  );
}

async function eventsOf(name: string): Promise<string[]> {
  const list = await srv.client.list<Event>(EVENTS, NS, { fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => e.reason ?? "");
}

async function startCM(): Promise<TestControllerManager> {
  return startControllerManager({
    kubeconfigPath: await srv.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
    extraArgs: CM_ARGS,
  });
}

before(async () => {
  srv = await startApiServer();
  kubelet = new PlayKubelet(srv.client);
  void kubelet.informer.run(signal.signal).catch(() => undefined);
  await kubelet.informer.waitForSync();
  cm = await startCM();
});

after(async () => {
  signal.abort();
  await cm?.stop();
  await srv?.stop();
});

describe("the Job controller in kubeling-controller-manager", () => {
  test("completions 5, parallelism 2: exactly 5 succeeded pods, never more than 2 running", async () => {
    await srv.client.create(JOBS, NS, job("five", { completions: 5, parallelism: 2 }));
    const done = await waitJobCondition("five", "Complete");
    assert.equal(done.status?.succeeded, 5);
    assert.equal(done.status?.failed, undefined);
    assert.ok(cond(done, "SuccessCriteriaMet"), "the interim SuccessCriteriaMet condition");
    assert.ok(done.status?.startTime && done.status.completionTime);
    const pods = kubelet.podsOf("five");
    assert.equal(pods.length, 5, `pods created: ${pods.map((p) => p.metadata.name).join(", ")}`);
    assert.equal(pods.filter((p) => p.status?.phase === "Succeeded").length, 5);
    assert.ok((kubelet.maxRunning.get("five") ?? 0) <= 2, `max running ${kubelet.maxRunning.get("five")}`);
    assert.equal(kubelet.maxRunning.get("five"), 2);
    // Every pod was tracked with the finalizer and let go once counted.
    const live = (await srv.client.list(PODS, NS, { labelSelector: "batch.kubernetes.io/job-name=five" })).items;
    assert.ok(live.every((p) => !(p.metadata.finalizers ?? []).includes(TRACKING)));
    assert.ok(pods.every((p) => p.metadata.labels?.["batch.kubernetes.io/controller-uid"] === done.metadata.uid));
    const reasons = await eventsOf("five");
    assert.ok(reasons.includes("SuccessfulCreate") && reasons.includes("Completed"), reasons.join(","));
    assert.deepEqual(kubelet.errors, []);
  });

  test("a failing Job stops at backoffLimit with Failed (BackoffLimitExceeded)", async () => {
    await srv.client.create(JOBS, NS, job("fails", { backoffLimit: 2, image: "exit/1" }));
    const failed = await waitJobCondition("fails", "Failed");
    assert.equal(cond(failed, "Failed")?.reason, "BackoffLimitExceeded");
    assert.equal(cond(failed, "Failed")?.message, "Job has reached the specified backoff limit");
    assert.equal(failed.status?.failed, 3);
    assert.equal(kubelet.podsOf("fails").length, 3, "backoffLimit 2: three attempts");
    // The backoff doubles: the third pod came at least 1 s + 2 s after the first failed.
    const created = kubelet
      .podsOf("fails")
      .map((p) => Date.parse(p.metadata.creationTimestamp ?? ""))
      .sort((a, b) => a - b);
    assert.ok((created[2] ?? 0) - (created[0] ?? 0) >= 3000, `attempts at ${created.join(", ")}`);
    assert.ok((await eventsOf("fails")).includes("BackoffLimitExceeded"));
  });

  test("ttlSecondsAfterFinished: the finished Job and its pods are deleted", async () => {
    await srv.client.create(JOBS, NS, job("short", { ttlSecondsAfterFinished: 1 }));
    await waitJobCondition("short", "Complete");
    await waitFor(
      async () => {
        try {
          await getJob("short");
          return false;
        } catch (err) {
          return isNotFound(err);
        }
      },
      { timeoutMs: 30_000, intervalMs: 200, message: "job short deleted by its TTL" },
    );
    await waitFor(
      async () =>
        (await srv.client.list(PODS, NS, { labelSelector: "batch.kubernetes.io/job-name=short" })).items.length === 0,
      { timeoutMs: 30_000, intervalMs: 200, message: "its pods deleted" },
    );
  });

  test("killing the controller-manager mid-Job loses no completion and creates no extra pod", async () => {
    kubelet.hold = true;
    await srv.client.create(JOBS, NS, job("restart", { completions: 4, parallelism: 2 }));
    await waitFor(() => kubelet.podsOf("restart").filter(isRunning).length === 2, {
      timeoutMs: 30_000,
      message: "2 running pods",
    });
    // The controller-manager dies at once; meanwhile both pods finish (and one is deleted early).
    await cm.proc.end("SIGKILL");
    const [a] = kubelet.podsOf("restart");
    kubelet.release();
    await waitFor(() => kubelet.podsOf("restart").every(isFinished), { timeoutMs: 10_000, message: "both finished" });
    await srv.client.delete(PODS, NS, a?.metadata.name ?? "");
    const during = await srv.client.get(PODS, NS, a?.metadata.name ?? "");
    assert.ok(during.metadata.deletionTimestamp, "held by the tracking finalizer");
    cm = await startCM();
    const done = await waitJobCondition("restart", "Complete");
    assert.equal(done.status?.succeeded, 4);
    assert.equal(kubelet.podsOf("restart").length, 4, "no extra pod");
    await waitFor(
      async () => {
        try {
          await srv.client.get(PODS, NS, a?.metadata.name ?? "");
          return false;
        } catch (err) {
          return isNotFound(err);
        }
      },
      { timeoutMs: 10_000, message: "the early-deleted pod goes once counted" },
    );
  });

  test("Indexed: pods with indexes 0..2, hostnames <job>-<index>, completedIndexes 0-2", async () => {
    await srv.client.create(JOBS, NS, job("idx", { completions: 3, parallelism: 3, completionMode: "Indexed" }));
    const done = await waitJobCondition("idx", "Complete");
    assert.equal(done.status?.completedIndexes, "0-2");
    const pods = kubelet.podsOf("idx");
    assert.deepEqual(pods.map((p) => p.metadata.annotations?.["batch.kubernetes.io/job-completion-index"]).sort(), [
      "0",
      "1",
      "2",
    ]);
    assert.deepEqual(pods.map((p) => p.spec?.hostname).sort(), ["idx-0", "idx-1", "idx-2"]);
  });
});
