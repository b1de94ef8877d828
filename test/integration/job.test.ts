// The Job and TTL-after-finished controllers in a real kubeling-controller-manager (under its own
// identity, so under the bootstrap RBAC roles) against a real API server and etcd. No kubelet
// runs: the test plays it, marking each new pod Running and then, unless held, finished with the
// exit code its image names ("exit/0", "exit/1"). Pod counts are sampled from every pod event.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { isConflict, isNotFound } from "#pkg/api/errors.js";
import { CRONJOBS, EVENTS, JOBS, PODS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { CronJob, Job } from "#pkg/api/types/batch.js";
import type { Event, Pod } from "#pkg/api/types/core.js";
import { Informer } from "#pkg/cache/informer.js";
import type { ApiClient } from "#pkg/client/client.js";
import { CONTROLLER_MANAGER_USER } from "#pkg/pki/cluster.js";
import { runCli } from "../e2e/cli-helpers.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
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

  constructor(client: ApiClient, runMs = 800) {
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
let kc: Kubectl;
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
  kc = kubectlFor(srv.kubeconfigPath);
});

after(async () => {
  kc?.close();
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
    // Replacements wait for the backoff (1 s, then 2 s, from the failures' finish times, which
    // are whole seconds): the three attempts span at least 2 s of creation timestamps.
    const created = kubelet
      .podsOf("fails")
      .map((p) => Date.parse(p.metadata.creationTimestamp ?? ""))
      .sort((a, b) => a - b);
    assert.ok((created[2] ?? 0) - (created[0] ?? 0) >= 2000, `attempts at ${created.join(", ")}`);
    assert.ok((await eventsOf("fails")).includes("BackoffLimitExceeded"));
  });

  test("status.ready counts the pods while they run Ready, and drops to 0 once they finish", async () => {
    kubelet.hold = true;
    await srv.client.create(JOBS, NS, job("readies", { completions: 3, parallelism: 3 }));
    const running = await waitFor(
      async () => {
        const j = await getJob("readies");
        return j.status?.ready === 3 ? j : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: "job readies: ready 3" },
    );
    assert.equal(running.status?.active, 3);
    const pods = kubelet.podsOf("readies");
    assert.equal(pods.length, 3);
    // What the controller counted is what the pods say: Running, Ready True.
    for (const p of await Promise.all(pods.map((x) => srv.client.get(PODS, NS, x.metadata.name ?? "")))) {
      assert.equal(p.status?.phase, "Running");
      assert.equal(p.status?.conditions?.find((c) => c.type === "Ready")?.status, "True");
    }
    kubelet.release();
    const done = await waitJobCondition("readies", "Complete");
    assert.equal(done.status?.succeeded, 3);
    assert.equal(done.status?.ready, 0);
    assert.equal(done.status?.active, undefined);
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

/** Ages as AGE and runs of padding collapsed: an age may tick (and widen its column) between two runs. */
const normalizeAges = (out: string) =>
  out.replace(/(?<=\s)\d+[smhd](\d+[smh])?(?=\s|$)/g, "AGE").replace(/ {2,}/g, "  ");

describe("the CLI and the real kubectl", () => {
  const kubeling = async (args: string[]) => {
    const r = await runCli(["--kubeconfig", srv.kubeconfigPath, ...args]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  /** What kubectl and kubeling must agree on in a Job (names aside). */
  const jobShape = (j: Job) => ({
    labels: Object.keys(j.metadata.labels ?? {}).sort(),
    annotations: j.metadata.annotations,
    owners: j.metadata.ownerReferences?.map((o) => [o.kind, o.name, o.controller, o.blockOwnerDeletion]),
    containers: j.spec?.template.spec?.containers.map((c) => [c.image, c.command]),
    restartPolicy: j.spec?.template.spec?.restartPolicy,
    completions: j.spec?.completions,
    backoffLimit: j.spec?.backoffLimit,
  });

  test("create job NAME --image -- CMD: kubectl's and kubeling's Jobs agree, and run", async () => {
    assert.equal(
      await kc.ok(["create", "job", "kjob", "--image=exit/0", "--", "echo", "hi"]),
      "job.batch/kjob created\n",
    );
    assert.equal(
      await kubeling(["create", "job", "ljob", "--image=exit/0", "--", "echo", "hi"]),
      "job.batch/ljob created\n",
    );
    const k = await getJob("kjob");
    const l = await getJob("ljob");
    assert.deepEqual(jobShape(l), jobShape(k));
    assert.deepEqual(
      k.spec?.template.spec?.containers.map((c) => [c.name, c.image, c.command]),
      [["kjob", "exit/0", ["echo", "hi"]]],
    );
    assert.equal(k.spec?.template.spec?.restartPolicy, "Never");
    await waitJobCondition("kjob", "Complete");
    await waitJobCondition("ljob", "Complete");
  });

  test("create cronjob; create job --from=cronjob/NAME; an invalid schedule refused with upstream's message", async () => {
    const args = ["--image=exit/0", "--schedule=*/1 * * * *", "--", "echo", "tick"];
    assert.equal(await kc.ok(["create", "cronjob", "kcj", ...args]), "cronjob.batch/kcj created\n");
    assert.equal(await kubeling(["create", "cronjob", "lcj", ...args]), "cronjob.batch/lcj created\n");
    const k = await srv.client.get<CronJob>(CRONJOBS, NS, "kcj");
    const l = await srv.client.get<CronJob>(CRONJOBS, NS, "lcj");
    const shape = (c: CronJob) => ({
      schedule: c.spec?.schedule,
      policy: c.spec?.concurrencyPolicy,
      template: c.spec?.jobTemplate.spec?.template.spec?.containers.map((x) => [x.image, x.command]),
      restartPolicy: c.spec?.jobTemplate.spec?.template.spec?.restartPolicy,
    });
    assert.deepEqual(shape(l), shape(k));
    assert.equal(k.spec?.jobTemplate.spec?.template.spec?.restartPolicy, "OnFailure");

    assert.equal(await kc.ok(["create", "job", "kmanual", "--from=cronjob/kcj"]), "job.batch/kmanual created\n");
    assert.equal(await kubeling(["create", "job", "lmanual", "--from=cronjob/kcj"]), "job.batch/lmanual created\n");
    const km = await getJob("kmanual");
    const lm = await getJob("lmanual");
    assert.deepEqual(jobShape(lm), jobShape(km));
    assert.equal(km.metadata.annotations?.["cronjob.kubernetes.io/instantiate"], "manual");
    assert.equal(km.metadata.ownerReferences?.[0]?.name, "kcj");

    const bad = await kc.run(["create", "cronjob", "bad", "--image=exit/0", "--schedule=61 * * * *"]);
    assert.notEqual(bad.code, 0);
    assert.match(
      bad.stderr,
      /spec\.schedule: Invalid value: "61 \* \* \* \*": end of range \(61\) above maximum \(59\): 61/,
    );
    const tz = await kc.run(["create", "cronjob", "bad", "--image=exit/0", "--schedule=TZ=UTC 0 * * * *"]);
    assert.match(tz.stderr, /cannot use TZ or CRON_TZ in schedule, use timeZone field instead/);
  });

  test("get jobs and cronjobs: upstream's columns, the same tables from kubectl and kubeling", async () => {
    await waitJobCondition("kmanual", "Complete");
    await waitJobCondition("lmanual", "Complete");
    const k = await kc.ok(["get", "jobs"]);
    assert.match(k, /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE$/m);
    assert.match(k, /^five\s+Complete\s+5\/5\s+\S+\s+\S+$/m);
    assert.match(k, /^fails\s+Failed\s+0\/1\s/m);
    assert.equal(normalizeAges(await kubeling(["get", "jobs"])), normalizeAges(k));
    const kw = await kc.ok(["get", "jobs", "-o", "wide"]);
    assert.match(kw, /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR$/m);
    const c = await kc.ok(["get", "cronjobs"]);
    assert.match(c, /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE$/m);
    assert.match(c, /^kcj\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+\d+\s/m);
    assert.equal(normalizeAges(await kubeling(["get", "cronjobs"])), normalizeAges(c));
  });

  test("describe job and cronjob: kubectl's and kubeling's agree", async () => {
    for (const args of [
      ["describe", "job", "five"],
      ["describe", "job", "idx"],
      ["describe", "cronjob", "kcj"],
    ]) {
      const k = await kc.ok(args);
      // The events' ages may tick between the two runs.
      assert.equal(normalizeAges(await kubeling(args)), normalizeAges(k), args.join(" "));
    }
    const k = await kc.ok(["describe", "job", "five"]);
    assert.match(k, /^Pods Statuses:\s+0 Active \(0 Ready\) \/ 5 Succeeded \/ 0 Failed$/m);
    assert.match(await kc.ok(["describe", "job", "idx"]), /^Completed Indexes:\s+0-2$/m);
  });
});
