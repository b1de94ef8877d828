import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { JOBS, PODS } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { Job } from "#pkg/api/types/batch.js";
import type { Pod } from "#pkg/api/types/core.js";
import { FakeClock } from "#pkg/runtime/clock.js";
import { abortFakeContexts, type FakeClient, fakeControllerContext } from "#pkg/testing/index.js";
import { formatIndexes, parseIndexes } from "./indexes.js";
import { JobController } from "./job-controller.js";
import { matchPodFailurePolicy } from "./pod-failure-policy.js";

afterEach(abortFakeContexts);

const UID = "uid-pi";
const LABELS = {
  "batch.kubernetes.io/controller-uid": UID,
  "batch.kubernetes.io/job-name": "pi",
  "controller-uid": UID,
  "job-name": "pi",
};

function job(spec: Partial<NonNullable<Job["spec"]>> = {}): Job {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: "pi", namespace: "default", uid: UID, generation: 1, creationTimestamp: metaTime(0) },
    spec: {
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      completionMode: "NonIndexed",
      selector: { matchLabels: { "batch.kubernetes.io/controller-uid": UID } },
      template: {
        metadata: { labels: LABELS },
        spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox" }] },
      },
      ...spec,
    },
  };
}

function rig(clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"))) {
  const ctx = fakeControllerContext({ clock });
  const controller = new JobController(ctx, { syncBatchPeriodMs: 0 });
  return { ctx, client: ctx.client, controller, clock, events: ctx.events };
}

const podsOf = async (client: FakeClient) => (await client.list(PODS, "default")).items;
const jobOf = (client: FakeClient) => client.object<Job>(JOBS, "default", "pi");

/** Syncs until a sync with met expectations changes nothing, letting the informers catch up. */
async function settle(r: ReturnType<typeof rig>): Promise<void> {
  for (let i = 0; i < 500; i++) {
    await new Promise((res) => setTimeout(res, 5));
    const before = r.client.actions.filter((a) => a.verb !== "get" && a.verb !== "list" && a.verb !== "watch").length;
    const satisfied = r.controller.expectations.satisfied("default/pi");
    await r.controller.sync("default/pi");
    const after = r.client.actions.filter((a) => a.verb !== "get" && a.verb !== "list" && a.verb !== "watch").length;
    if (satisfied && after === before) return;
  }
  assert.fail("job did not settle");
}

/** The test's kubelet: finishes a pod with one container's exit code. */
async function finish(client: FakeClient, pod: Pod, exitCode: number, at: number): Promise<void> {
  const cur = await client.get(PODS, "default", pod.metadata.name ?? "");
  cur.status = {
    phase: exitCode === 0 ? "Succeeded" : "Failed",
    containerStatuses: [
      {
        name: "c",
        image: "busybox",
        imageID: "",
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode, finishedAt: metaTime(at), startedAt: metaTime(at - 1000) } },
      },
    ],
  };
  await client.update(PODS, "default", cur, { subresource: "status" });
}

const active = (pods: Pod[]) => pods.filter((p) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed");

describe("JobController", () => {
  test("completions 3, parallelism 2: at most 2 active, tracked with the finalizer, then Complete", async () => {
    const r = rig();
    r.client.seed(JOBS, job({ completions: 3, parallelism: 2 }));
    await r.ctx.start();
    await settle(r);
    let pods = await podsOf(r.client);
    assert.equal(pods.length, 2);
    for (const p of pods) {
      assert.equal(p.metadata.generateName, "pi-");
      assert.deepEqual(p.metadata.finalizers, ["batch.kubernetes.io/job-tracking"]);
      assert.deepEqual(p.metadata.labels, LABELS);
      assert.equal(p.metadata.ownerReferences?.[0]?.uid, UID);
    }
    assert.equal(jobOf(r.client)?.status?.active, 2);
    assert.ok(jobOf(r.client)?.status?.startTime);
    for (const p of pods) await finish(r.client, p, 0, r.clock.now());
    await settle(r);
    pods = await podsOf(r.client);
    assert.equal(pods.length, 3);
    assert.equal(active(pods).length, 1);
    assert.equal(jobOf(r.client)?.status?.succeeded, 2);
    // Counted pods lose the finalizer.
    assert.deepEqual(
      pods.filter((p) => p.status?.phase === "Succeeded").map((p) => p.metadata.finalizers ?? []),
      [[], []],
    );
    await finish(r.client, active(pods)[0] as Pod, 0, r.clock.now());
    await settle(r);
    const st = jobOf(r.client)?.status;
    assert.equal(st?.succeeded, 3);
    assert.equal(st?.active, undefined);
    assert.deepEqual(
      st?.conditions?.map((c) => [c.type, c.status, c.reason ?? ""]),
      [
        ["SuccessCriteriaMet", "True", "CompletionsReached"],
        ["Complete", "True", "CompletionsReached"],
      ],
    );
    assert.ok(st?.completionTime);
    assert.deepEqual(st?.uncountedTerminatedPods, {});
    assert.deepEqual(r.events.reasons("default/pi"), [
      "SuccessfulCreate",
      "SuccessfulCreate",
      "SuccessfulCreate",
      "Completed",
    ]);
  });

  test("failures back off (10 s doubling) and stop at backoffLimit with BackoffLimitExceeded", async () => {
    const r = rig();
    r.client.seed(JOBS, job({ backoffLimit: 1 }));
    await r.ctx.start();
    await settle(r);
    const [first] = await podsOf(r.client);
    await finish(r.client, first as Pod, 1, r.clock.now());
    await settle(r);
    assert.equal(jobOf(r.client)?.status?.failed, 1);
    assert.equal(active(await podsOf(r.client)).length, 0, "no replacement before the backoff");
    r.clock.step(10_001);
    await settle(r);
    const second = active(await podsOf(r.client));
    assert.equal(second.length, 1, "replaced after 10 s");
    await finish(r.client, second[0] as Pod, 1, r.clock.now());
    await settle(r);
    const st = jobOf(r.client)?.status;
    assert.equal(st?.failed, 2);
    assert.deepEqual(
      st?.conditions?.map((c) => [c.type, c.reason, c.message]),
      [
        ["FailureTarget", "BackoffLimitExceeded", "Job has reached the specified backoff limit"],
        ["Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit"],
      ],
    );
    assert.equal(r.events.reasons("default/pi").at(-1), "BackoffLimitExceeded");
  });

  test("Indexed: one pod per index with the annotation, label, env and hostname; completedIndexes", async () => {
    const r = rig();
    r.client.seed(JOBS, job({ completions: 3, parallelism: 3, completionMode: "Indexed" }));
    await r.ctx.start();
    await settle(r);
    const pods = await podsOf(r.client);
    const byIndex = new Map(pods.map((p) => [p.metadata.annotations?.["batch.kubernetes.io/job-completion-index"], p]));
    assert.deepEqual([...byIndex.keys()].sort(), ["0", "1", "2"]);
    const p1 = byIndex.get("1") as Pod;
    assert.equal(p1.metadata.labels?.["batch.kubernetes.io/job-completion-index"], "1");
    assert.equal(p1.metadata.generateName, "pi-1-");
    assert.equal(p1.spec?.hostname, "pi-1");
    assert.deepEqual(p1.spec?.containers[0]?.env, [
      {
        name: "JOB_COMPLETION_INDEX",
        valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } },
      },
    ]);
    await finish(r.client, byIndex.get("0") as Pod, 0, r.clock.now());
    await finish(r.client, byIndex.get("2") as Pod, 0, r.clock.now());
    await settle(r);
    assert.equal(jobOf(r.client)?.status?.completedIndexes, "0,2");
    await finish(r.client, p1, 0, r.clock.now());
    await settle(r);
    assert.equal(jobOf(r.client)?.status?.completedIndexes, "0-2");
    assert.equal(jobOf(r.client)?.status?.succeeded, 3);
    assert.ok(jobOf(r.client)?.status?.conditions?.some((c) => c.type === "Complete"));
  });

  test("podFailurePolicy: FailJob on an exit code fails the Job at once; Ignore does not count", async () => {
    const r = rig();
    const policy = {
      rules: [
        { action: "Ignore", onExitCodes: { operator: "In", values: [3] } },
        { action: "FailJob", onExitCodes: { containerName: "c", operator: "In", values: [42] } },
      ],
    };
    r.client.seed(JOBS, job({ podFailurePolicy: policy, podReplacementPolicy: "Failed", backoffLimit: 0 }));
    await r.ctx.start();
    await settle(r);
    const [p] = await podsOf(r.client);
    await finish(r.client, p as Pod, 3, r.clock.now());
    await settle(r);
    assert.equal(jobOf(r.client)?.status?.failed, undefined, "an ignored failure is not counted");
    // As upstream, an ignored failure still delays the replacement by the backoff.
    r.clock.step(10_001);
    await settle(r);
    const next = active(await podsOf(r.client));
    assert.equal(next.length, 1, "replaced after the backoff");
    await finish(r.client, next[0] as Pod, 42, r.clock.now());
    await settle(r);
    const failed = jobOf(r.client)?.status?.conditions?.find((c) => c.type === "Failed");
    assert.equal(failed?.reason, "PodFailurePolicy");
    assert.equal(
      failed?.message,
      `Container c for pod default/${next[0]?.metadata.name} failed with exit code 42 matching FailJob rule at index 1`,
    );
  });

  test("the backoff doubles per failure since the last success: 10 s, 20 s, 40 s … capped at 6 min", async () => {
    const r = rig();
    r.client.seed(JOBS, job({ backoffLimit: 100 }));
    await r.ctx.start();
    await settle(r);
    const delays = [10, 20, 40, 80, 160, 320, 360, 360].map((s) => s * 1000);
    for (const [i, delay] of delays.entries()) {
      const [running] = active(await podsOf(r.client));
      assert.ok(running, `a pod runs before failure ${i + 1}`);
      // Finish on a whole second: finishedAt has second resolution.
      r.clock.step(1000 - (r.clock.now() % 1000));
      await finish(r.client, running, 1, r.clock.now());
      await settle(r);
      assert.equal(jobOf(r.client)?.status?.failed, i + 1);
      r.clock.step(delay - 1);
      await settle(r);
      assert.equal(active(await podsOf(r.client)).length, 0, `failure ${i + 1}: no replacement before ${delay} ms`);
      r.clock.step(1);
      await settle(r);
      assert.equal(active(await podsOf(r.client)).length, 1, `failure ${i + 1}: replaced at ${delay} ms`);
    }
    assert.equal(
      jobOf(r.client)?.status?.conditions?.find((c) => c.type === "Failed"),
      undefined,
      "still under backoffLimit",
    );
  });

  test("a success resets the backoff to 10 s", async () => {
    const r = rig();
    r.client.seed(JOBS, job({ completions: 3, parallelism: 1, backoffLimit: 100 }));
    await r.ctx.start();
    await settle(r);
    const failThenWait = async (delay: number) => {
      const [p] = active(await podsOf(r.client));
      await finish(r.client, p as Pod, 1, r.clock.now());
      await settle(r);
      r.clock.step(delay - 1);
      await settle(r);
      assert.equal(active(await podsOf(r.client)).length, 0, `no replacement before ${delay} ms`);
      r.clock.step(1);
      await settle(r);
      assert.equal(active(await podsOf(r.client)).length, 1, `replaced at ${delay} ms`);
    };
    await failThenWait(10_000);
    await failThenWait(20_000);
    const [p] = active(await podsOf(r.client));
    r.clock.step(1000);
    await finish(r.client, p as Pod, 0, r.clock.now());
    await settle(r);
    assert.equal(active(await podsOf(r.client)).length, 1, "a success is replaced at once");
    r.clock.step(1000);
    await failThenWait(10_000);
  });

  test("status.ready counts the active pods whose Ready condition is True", async () => {
    const r = rig();
    r.client.seed(JOBS, job({ completions: 3, parallelism: 3 }));
    await r.ctx.start();
    await settle(r);
    assert.equal(jobOf(r.client)?.status?.ready, 0, "created, none ready");
    const setRunning = async (pod: Pod, ready: boolean) => {
      const cur = await r.client.get(PODS, "default", pod.metadata.name ?? "");
      cur.status = {
        phase: "Running",
        conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: metaTime(r.clock.now()) }],
        containerStatuses: [
          {
            name: "c",
            image: "busybox",
            imageID: "",
            ready,
            restartCount: 0,
            state: { running: { startedAt: metaTime(r.clock.now()) } },
          },
        ],
      };
      await r.client.update(PODS, "default", cur, { subresource: "status" });
    };
    const [a, b, c] = await podsOf(r.client);
    await setRunning(a as Pod, true);
    await setRunning(b as Pod, true);
    await setRunning(c as Pod, false);
    await settle(r);
    assert.equal(jobOf(r.client)?.status?.ready, 2, "two Running and Ready, one Running not Ready");
    assert.equal(jobOf(r.client)?.status?.active, 3);
    await setRunning(c as Pod, true);
    await settle(r);
    assert.equal(jobOf(r.client)?.status?.ready, 3);
    await setRunning(a as Pod, false);
    await settle(r);
    assert.equal(jobOf(r.client)?.status?.ready, 2, "a pod that turns unready leaves the count");
    // A finished pod is no longer active, so no longer ready.
    await finish(r.client, b as Pod, 0, r.clock.now());
    await settle(r);
    assert.equal(jobOf(r.client)?.status?.ready, 1);
    assert.equal(jobOf(r.client)?.status?.succeeded, 1);
  });

  test("podFailurePolicy Count: a matching failure counts towards backoffLimit as usual; Ignore does not", async () => {
    const r = rig();
    const policy = {
      rules: [
        { action: "Ignore", onExitCodes: { operator: "In", values: [3] } },
        { action: "Count", onExitCodes: { containerName: "c", operator: "In", values: [5] } },
      ],
    };
    r.client.seed(JOBS, job({ podFailurePolicy: policy, podReplacementPolicy: "Failed", backoffLimit: 1 }));
    await r.ctx.start();
    await settle(r);
    const failNext = async (exitCode: number, wait: number) => {
      const [p] = active(await podsOf(r.client));
      assert.ok(p, "a pod runs");
      await finish(r.client, p, exitCode, r.clock.now());
      await settle(r);
      r.clock.step(wait);
      await settle(r);
    };
    await failNext(3, 10_000);
    assert.equal(jobOf(r.client)?.status?.failed, undefined, "Ignore: not counted");
    await failNext(3, 20_000);
    assert.equal(jobOf(r.client)?.status?.failed, undefined, "Ignore twice: still not counted");
    await failNext(5, 40_000);
    assert.equal(jobOf(r.client)?.status?.failed, 1, "Count: counted");
    assert.equal(jobOf(r.client)?.status?.conditions, undefined, "one counted failure is within backoffLimit 1");
    assert.equal(active(await podsOf(r.client)).length, 1, "replaced");
    await failNext(5, 0);
    const st = jobOf(r.client)?.status;
    assert.equal(st?.failed, 2);
    assert.deepEqual(
      st?.conditions?.map((c) => [c.type, c.reason]),
      [
        ["FailureTarget", "BackoffLimitExceeded"],
        ["Failed", "BackoffLimitExceeded"],
      ],
      "the second Count failure passes backoffLimit 1, as a failure with no rule would",
    );
  });

  test("activeDeadlineSeconds: the Job fails with DeadlineExceeded and its pods are deleted", async () => {
    const r = rig();
    r.client.seed(JOBS, job({ activeDeadlineSeconds: 30, parallelism: 2, completions: 2 }));
    await r.ctx.start();
    await settle(r);
    assert.equal((await podsOf(r.client)).length, 2);
    r.clock.step(30_000);
    await settle(r);
    assert.equal((await podsOf(r.client)).length, 0);
    const conds = jobOf(r.client)?.status?.conditions?.map((c) => [c.type, c.reason]);
    assert.deepEqual(conds, [
      ["FailureTarget", "DeadlineExceeded"],
      ["Failed", "DeadlineExceeded"],
    ]);
  });

  test("suspend: no pods, the Suspended condition; resuming creates them", async () => {
    const r = rig();
    r.client.seed(JOBS, job({ suspend: true }));
    await r.ctx.start();
    await settle(r);
    assert.equal((await podsOf(r.client)).length, 0);
    assert.deepEqual(
      jobOf(r.client)?.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [["Suspended", "True", "JobSuspended"]],
    );
    assert.equal(jobOf(r.client)?.status?.startTime, undefined);
    const cur = jobOf(r.client) as Job;
    cur.spec = { ...cur.spec, suspend: false } as Job["spec"];
    await r.client.update(JOBS, "default", cur);
    await settle(r);
    assert.equal((await podsOf(r.client)).length, 1);
    assert.deepEqual(
      jobOf(r.client)?.status?.conditions?.map((c) => [c.type, c.status, c.reason]),
      [["Suspended", "False", "JobResumed"]],
    );
    assert.deepEqual(r.events.reasons("default/pi"), ["Suspended", "SuccessfulCreate", "Resumed"]);
  });

  test("a restart between the two status writes counts a pod exactly once", async () => {
    const r = rig();
    // A previous controller recorded the pod in uncountedTerminatedPods, then died before
    // removing its finalizer.
    const j = job({ completions: 2 });
    j.status = { startTime: metaTime(0), uncountedTerminatedPods: { succeeded: ["uid-a"] } };
    r.client.seed(JOBS, j);
    r.client.seed(PODS, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "pi-a",
        namespace: "default",
        uid: "uid-a",
        labels: LABELS,
        finalizers: ["batch.kubernetes.io/job-tracking"],
        ownerReferences: [
          { apiVersion: "batch/v1", kind: "Job", name: "pi", uid: UID, controller: true, blockOwnerDeletion: true },
        ],
      },
      spec: { containers: [{ name: "c", image: "busybox" }] },
      status: { phase: "Succeeded" },
    } as Pod);
    await r.ctx.start();
    await settle(r);
    const st = jobOf(r.client)?.status;
    assert.equal(st?.succeeded, 1);
    assert.deepEqual(st?.uncountedTerminatedPods, {});
    assert.deepEqual((await r.client.get(PODS, "default", "pi-a")).metadata.finalizers ?? [], []);
    assert.equal(active(await podsOf(r.client)).length, 1, "one more pod for the second completion");
  });
});

describe("job helpers", () => {
  test("completed indexes as upstream's intervals", () => {
    assert.equal(formatIndexes([0, 1, 2, 4, 6, 7]), "0-2,4,6,7");
    assert.deepEqual(parseIndexes("0-2,4,6,7,9", 8), [0, 1, 2, 4, 6, 7]);
  });

  test("pod failure policy: the first matching rule, conditions by type and status", () => {
    const pod = {
      metadata: { name: "p", namespace: "ns" },
      status: { phase: "Failed", conditions: [{ type: "DisruptionTarget", status: "True" }] },
    } as Pod;
    const policy = {
      rules: [
        { action: "Count", onExitCodes: { operator: "NotIn", values: [1] } },
        { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
      ],
    };
    assert.deepEqual(matchPodFailurePolicy(policy, pod), { countFailed: false, action: "Ignore" });
    assert.deepEqual(matchPodFailurePolicy(undefined, pod), { countFailed: true });
  });
});

describe("successPolicy", () => {
  test("an Indexed Job meeting a rule is Complete (reason SuccessPolicy) and its other pods go", async () => {
    const r = rig();
    r.client.seed(
      JOBS,
      job({
        completions: 3,
        parallelism: 3,
        completionMode: "Indexed",
        successPolicy: { rules: [{ succeededIndexes: "0" }] },
      }),
    );
    await r.ctx.start();
    await settle(r);
    const pods = await podsOf(r.client);
    const zero = pods.find((p) => p.metadata.annotations?.["batch.kubernetes.io/job-completion-index"] === "0");
    await finish(r.client, zero as Pod, 0, r.clock.now());
    await settle(r);
    const st = jobOf(r.client)?.status;
    assert.deepEqual(
      st?.conditions?.map((c) => [c.type, c.reason, c.message]),
      [
        ["SuccessCriteriaMet", "SuccessPolicy", "Matched rules at index 0"],
        ["Complete", "SuccessPolicy", "Matched rules at index 0"],
      ],
    );
    assert.equal(st?.failed, undefined, "the pods removed are not failures");
    assert.equal((await podsOf(r.client)).length, 1, "the two others deleted");
  });

  test("rules: all listed indexes, succeededCount of them, or overall", async () => {
    const { matchSuccessPolicy } = await import("./job-controller.js");
    assert.equal(matchSuccessPolicy({ rules: [{ succeededIndexes: "0-2" }] }, 5, [0, 1]), undefined);
    assert.equal(
      matchSuccessPolicy({ rules: [{ succeededIndexes: "0-2", succeededCount: 2 }] }, 5, [0, 1]),
      "Matched rules at index 0",
    );
    assert.equal(
      matchSuccessPolicy({ rules: [{ succeededIndexes: "4" }, { succeededCount: 2 }] }, 5, [0, 3]),
      "Matched rules at index 1",
    );
  });
});

describe("backoffLimitPerIndex", () => {
  test("an index past its limit fails alone; the Job fails with FailedIndexes once every index is done", async () => {
    const r = rig();
    r.client.seed(
      JOBS,
      job({
        completions: 2,
        parallelism: 2,
        completionMode: "Indexed",
        backoffLimitPerIndex: 1,
        backoffLimit: 2147483647,
      }),
    );
    await r.ctx.start();
    await settle(r);
    const ofIndex = async (ix: string) =>
      (await podsOf(r.client)).filter(
        (p) => p.metadata.annotations?.["batch.kubernetes.io/job-completion-index"] === ix,
      );
    const [zero] = await ofIndex("0");
    const [one] = await ofIndex("1");
    assert.equal(zero?.metadata.annotations?.["batch.kubernetes.io/job-index-failure-count"], "0");
    await finish(r.client, one as Pod, 0, r.clock.now());
    await finish(r.client, zero as Pod, 1, r.clock.now());
    await settle(r);
    assert.equal(active(await ofIndex("0")).length, 0, "index 0 waits its own backoff");
    const held = (await ofIndex("0"))[0];
    assert.deepEqual(held?.metadata.finalizers, ["batch.kubernetes.io/job-tracking"], "kept until replaced");
    r.clock.step(10_001);
    await settle(r);
    const retry = active(await ofIndex("0"));
    assert.equal(retry.length, 1);
    assert.equal(retry[0]?.metadata.annotations?.["batch.kubernetes.io/job-index-failure-count"], "1");
    await finish(r.client, retry[0] as Pod, 1, r.clock.now());
    await settle(r);
    const st = jobOf(r.client)?.status;
    assert.equal(st?.failedIndexes, "0");
    assert.equal(st?.completedIndexes, "1");
    assert.equal(st?.failed, 2);
    assert.deepEqual(
      st?.conditions?.map((c) => [c.type, c.reason]),
      [
        ["FailureTarget", "FailedIndexes"],
        ["Failed", "FailedIndexes"],
      ],
    );
    assert.equal(active(await podsOf(r.client)).length, 0);
  });
});
