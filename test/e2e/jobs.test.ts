// Jobs and CronJobs on a real cluster: API server, scheduler, two kubelets on Docker and
// kubeling-controller-manager (every controller, under its own identity, its pod-failure backoff
// shortened to 1 s),
// driven by the real kubectl and the kubeling CLI. Running pods are sampled from a watch.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { CRONJOBS, EVENTS, JOBS, PODS } from "#pkg/api/resources.js";
import type { CronJob, Job } from "#pkg/api/types/batch.js";
import type { Event, Pod } from "#pkg/api/types/core.js";
import { CONTROLLER_MANAGER_USER } from "#pkg/pki/cluster.js";
import { startCluster, type TestCluster } from "../harness/cluster.js";
import { startControllerManager, type TestControllerManager } from "../harness/controller-manager.js";
import { BUSYBOX_IMAGE } from "../harness/images.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { waitFor } from "../harness/wait.js";
import { runCli } from "./cli-helpers.js";

const NS = "default";
const CM_ARGS = ["--leader-elect=false", "--job-pod-failure-backoff=1s"];

const isActive = (p: Pod) =>
  !p.metadata.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed";
const cond = (j: Job, type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === "True");

function job(name: string, script: string, spec: Partial<NonNullable<Job["spec"]>> = {}): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name },
    spec: {
      template: {
        spec: {
          restartPolicy: "Never",
          terminationGracePeriodSeconds: 1,
          containers: [
            { name: "c", image: BUSYBOX_IMAGE, imagePullPolicy: "IfNotPresent", command: ["sh", "-c", script] },
          ],
        },
      },
      ...spec,
    },
  };
}

/**
 * Watches the pods of Job `name` from now on: every pod seen, and the most active at once.
 */
async function samplePods(c: TestCluster, name: string) {
  const sel = `batch.kubernetes.io/job-name=${name}`;
  const list = await c.client.list<Pod>(PODS, NS, { labelSelector: sel });
  const pods = new Map(list.items.map((p) => [p.metadata.name ?? "", p]));
  const seen = new Map(pods);
  const activeNow = () => [...pods.values()].filter(isActive).length;
  const stats = { maxActive: activeNow() };
  const abort = new AbortController();
  const done = (async () => {
    const opts = { labelSelector: sel, resourceVersion: list.metadata.resourceVersion ?? "0" };
    for await (const ev of c.client.watch<Pod>(PODS, NS, opts, abort.signal)) {
      const key = ev.object.metadata.name ?? "";
      if (ev.type === "DELETED") pods.delete(key);
      else {
        pods.set(key, ev.object);
        seen.set(key, ev.object);
      }
      stats.maxActive = Math.max(stats.maxActive, activeNow());
    }
  })().catch(() => undefined);
  return {
    stats,
    seen,
    async stop() {
      abort.abort();
      await done;
    },
  };
}

describe("Jobs and CronJobs on two kubelets", () => {
  let c: TestCluster;
  let cm: TestControllerManager;
  let kubectl: Kubectl;

  const getJob = (name: string) => c.client.get(JOBS, NS, name);
  const waitCondition = (name: string, type: string, timeoutMs = 120_000) =>
    waitFor(
      async () => {
        const j = await getJob(name);
        return cond(j, type) ? j : undefined;
      },
      { timeoutMs, intervalMs: 250, message: `job ${name} ${type}` },
    );
  // Under its own identity: the bootstrap roles of the job, cronjob and ttl-after-finished controllers are what it has.
  const startCM = async () =>
    startControllerManager({
      kubeconfigPath: await c.api.kubeconfigFor({ name: CONTROLLER_MANAGER_USER }),
      credentials: { token: c.api.token },
      extraArgs: CM_ARGS,
    });

  before(async () => {
    c = await startCluster();
    cm = await startCM();
    kubectl = kubectlFor(c.kubeconfigPath);
  });

  after(async () => {
    kubectl?.close();
    await cm?.stop();
    await c?.stop();
  });

  test("completions 5, parallelism 2: exactly 5 succeeded pods, never more than 2 active", async () => {
    const s = await samplePods(c, "five");
    await c.client.create(JOBS, NS, job("five", "sleep 1", { completions: 5, parallelism: 2 }));
    const done = await waitCondition("five", "Complete");
    await s.stop();
    assert.equal(done.status?.succeeded, 5);
    assert.equal(done.status?.failed, undefined);
    assert.equal(s.seen.size, 5, [...s.seen.keys()].join(", "));
    assert.equal([...s.seen.values()].filter((p) => p.status?.phase === "Succeeded").length, 5);
    assert.equal(s.stats.maxActive, 2, "parallelism reached, never exceeded");
    const nodes = new Set([...s.seen.values()].map((p) => p.spec?.nodeName));
    assert.ok(nodes.size >= 1 && [...nodes].every((n) => n === "node-1" || n === "node-2"));
  });

  test("a failing Job stops at backoffLimit with Failed (BackoffLimitExceeded)", async () => {
    await c.client.create(JOBS, NS, job("fails", "exit 3", { backoffLimit: 1 }));
    const failed = await waitCondition("fails", "Failed");
    assert.equal(cond(failed, "Failed")?.reason, "BackoffLimitExceeded");
    assert.equal(failed.status?.failed, 2);
    const pods = (await c.client.list(PODS, NS, { labelSelector: "batch.kubernetes.io/job-name=fails" })).items;
    assert.equal(pods.length, 2);
    assert.ok(pods.every((p) => p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode === 3));
  });

  test("an Indexed Job's pods each see their index (JOB_COMPLETION_INDEX, hostname); logs job/NAME", async () => {
    await c.client.create(
      JOBS,
      NS,
      job("idx", 'echo "index=$JOB_COMPLETION_INDEX host=$(hostname)"', {
        completions: 3,
        parallelism: 3,
        completionMode: "Indexed",
      }),
    );
    const done = await waitCondition("idx", "Complete");
    assert.equal(done.status?.completedIndexes, "0-2");
    const pods = (await c.client.list(PODS, NS, { labelSelector: "batch.kubernetes.io/job-name=idx" })).items;
    assert.equal(pods.length, 3);
    for (const p of pods) {
      const ix = p.metadata.annotations?.["batch.kubernetes.io/job-completion-index"];
      assert.equal(await kubectl.ok(["logs", p.metadata.name ?? ""]), `index=${ix} host=idx-${ix}\n`);
    }
    // kubectl and kubeling pick a pod of the Job alike.
    const k = await kubectl.run(["logs", "job/idx"]);
    const l = await runCli(["--kubeconfig", c.kubeconfigPath, "logs", "job/idx"]);
    assert.equal(l.code, 0, l.stderr);
    assert.match(k.stdout, /^index=\d host=idx-\d\n$/);
    assert.match(l.stdout, /^index=\d host=idx-\d\n$/);
  });

  test("kubectl create job runs to completion; ttlSecondsAfterFinished removes a finished Job", async () => {
    assert.equal(
      await kubectl.ok(["create", "job", "hello", `--image=${BUSYBOX_IMAGE}`, "--", "sh", "-c", "echo hello"]),
      "job.batch/hello created\n",
    );
    await kubectl.ok(["wait", "--for=condition=complete", "job/hello", "--timeout=120s"], { timeoutMs: 130_000 });
    assert.equal(await kubectl.ok(["logs", "job/hello"]), "hello\n");
    assert.match(await kubectl.ok(["get", "jobs", "hello"]), /^hello\s+Complete\s+1\/1\s+\S+\s+\S+$/m);

    await c.client.create(JOBS, NS, job("short", "true", { ttlSecondsAfterFinished: 2 }));
    await waitCondition("short", "Complete");
    await waitFor(
      async () => {
        const jobs = (await c.client.list(JOBS, NS)).items;
        const pods = (await c.client.list(PODS, NS, { labelSelector: "batch.kubernetes.io/job-name=short" })).items;
        return !jobs.some((j) => j.metadata.name === "short") && pods.length === 0;
      },
      { timeoutMs: 60_000, intervalMs: 250, message: "job short and its pod deleted by the TTL" },
    );
  });

  test("killing the controller-manager while a Job runs: it still completes with exactly `completions` pods", async () => {
    const s = await samplePods(c, "restart");
    await c.client.create(JOBS, NS, job("restart", "sleep 4", { completions: 4, parallelism: 2 }));
    await waitFor(async () => [...s.seen.values()].filter((p) => p.status?.phase === "Running").length >= 2, {
      timeoutMs: 60_000,
      intervalMs: 100,
      message: "two pods running",
    });
    await cm.proc.end("SIGKILL");
    // The running pods finish while no controller watches.
    await waitFor(async () => [...s.seen.values()].filter((p) => p.status?.phase === "Succeeded").length >= 2, {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: "the first two succeeded",
    });
    cm = await startCM();
    const done = await waitCondition("restart", "Complete");
    await s.stop();
    assert.equal(done.status?.succeeded, 4);
    assert.equal(s.seen.size, 4, `no extra pod: ${[...s.seen.keys()].join(", ")}`);
    assert.ok(s.stats.maxActive <= 2);
  });

  test("CronJobs on */1 * * * *: Jobs on time, Forbid skips while one runs, history limits prune", async () => {
    const template = (script: string) => ({
      spec: job("x", script).spec as NonNullable<Job["spec"]>,
    });
    const cronJob = (name: string, spec: Partial<NonNullable<CronJob["spec"]>>): CronJob => ({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name },
      spec: { schedule: "*/1 * * * *", jobTemplate: template("true"), ...spec } as NonNullable<CronJob["spec"]>,
    });
    await c.client.create(CRONJOBS, NS, cronJob("every", { successfulJobsHistoryLimit: 1 }));
    await c.client.create(
      CRONJOBS,
      NS,
      cronJob("forbid", { concurrencyPolicy: "Forbid", jobTemplate: template("sleep 100") }),
    );
    const ownedBy = (cj: string) => async () =>
      (await c.client.list(JOBS, NS)).items.filter((j) => j.metadata.ownerReferences?.[0]?.name === cj);

    // Two runs of "every", each created within seconds of its minute, named after it.
    const created: Job[] = [];
    await waitFor(
      async () => {
        for (const j of await ownedBy("every")())
          if (!created.some((x) => x.metadata.uid === j.metadata.uid)) created.push(j);
        return created.length >= 2;
      },
      { timeoutMs: 150_000, intervalMs: 500, message: "two Jobs of cronjob every" },
    );
    for (const j of created) {
      const scheduled = Date.parse(j.metadata.annotations?.["batch.kubernetes.io/cronjob-scheduled-timestamp"] ?? "");
      assert.equal(scheduled % 60_000, 0, "scheduled on a minute");
      assert.equal(j.metadata.name, `every-${scheduled / 60_000}`);
      const lag = Date.parse(j.metadata.creationTimestamp ?? "") - scheduled;
      assert.ok(lag >= 0 && lag < 10_000, `created ${lag} ms after its time`);
    }
    // Forbid: its first Job still runs at the next minute, which is skipped.
    const forbidden = await waitFor(
      async () => {
        const ev = (await c.client.list<Event>(EVENTS, NS, { fieldSelector: "involvedObject.name=forbid" })).items;
        return ev.some((e) => e.reason === "JobAlreadyActive") && ev;
      },
      { timeoutMs: 150_000, intervalMs: 500, message: "cronjob forbid skipping a run" },
    );
    assert.ok(forbidden.some((e) => e.reason === "SuccessfulCreate"));
    assert.equal((await ownedBy("forbid")()).length, 1, "one Job while it runs");
    // successfulJobsHistoryLimit 1: once the second completes, the first is deleted.
    await waitFor(
      async () => {
        const jobs = await ownedBy("every")();
        return (
          jobs.length === 1 &&
          jobs.every((j) => cond(j, "Complete")) &&
          !jobs.some((j) => j.metadata.uid === created[0]?.metadata.uid)
        );
      },
      { timeoutMs: 120_000, intervalMs: 500, message: "history pruned to one successful Job" },
    );
    const every = await c.client.get(CRONJOBS, NS, "every");
    assert.ok(every.status?.lastScheduleTime && every.status.lastSuccessfulTime);
    assert.match(
      await kubectl.ok(["get", "cronjobs"]),
      /^every\s+\*\/1 \* \* \* \*\s+<none>\s+False\s+\d+\s+\S+\s+\S+$/m,
    );
    await c.client.delete(CRONJOBS, NS, "every");
    await c.client.delete(CRONJOBS, NS, "forbid");
  });
});
