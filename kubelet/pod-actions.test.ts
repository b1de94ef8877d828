import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Pod } from "#pkg/api/types/index.js";
import { activeDeadlineLeftMs, computePodActions, containersToRemove, sandboxOf } from "./pod-actions.js";
import type { ContainerInfo } from "./runtime/runtime.js";
import { hashContainer } from "./spec.js";

const app = { name: "c", image: "img:1" };

function pod(spec: Partial<NonNullable<Pod["spec"]>> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default", uid: "u1" },
    spec: { containers: [app], ...spec },
  };
}

let seq = 0;
function ctr(o: Partial<ContainerInfo> & Pick<ContainerInfo, "name" | "type" | "state">): ContainerInfo {
  seq++;
  return {
    id: `id-${seq}`,
    podUid: "u1",
    podName: "p",
    podNamespace: "default",
    restartCount: 0,
    hash: o.type === "sandbox" ? "" : hashContainer(app),
    image: "img:1",
    imageId: "sha",
    createdAt: `2026-01-01T00:00:${String(seq % 60).padStart(2, "0")}Z`,
    ...o,
  };
}

const sandbox = (o: Partial<ContainerInfo> = {}) =>
  ctr({ name: "POD", type: "sandbox", state: "running", ip: "10.0.0.2", ...o });
const ctx = { nodeIP: "192.168.0.1", killRequested: () => undefined };

describe("computePodActions", () => {
  test("no sandbox: create one (attempt 0), nothing to kill", () => {
    const a = computePodActions(pod(), [], ctx);
    assert.equal(a.createSandbox, true);
    assert.equal(a.attempt, 0);
    assert.deepEqual(a.killPod, []);
    assert.equal(a.sandbox, undefined);
  });

  test("a dead sandbox: kill what still runs, recreate with the next attempt", () => {
    const old = sandbox({ state: "exited", restartCount: 2 });
    const running = ctr({ name: "c", type: "app", state: "running" });
    const a = computePodActions(pod(), [old, running], ctx);
    assert.equal(a.createSandbox, true);
    assert.equal(a.attempt, 3);
    assert.equal(a.oldSandbox?.id, old.id);
    assert.deepEqual(
      a.killPod.map((c) => c.id),
      [running.id],
    );
  });

  test("a finished pod (Never, all exited) gets no new sandbox", () => {
    const a = computePodActions(
      pod({ restartPolicy: "Never" }),
      [sandbox({ state: "exited" }), ctr({ name: "c", type: "app", state: "exited", exitCode: 1 })],
      ctx,
    );
    assert.equal(a.createSandbox, false);
  });

  test("a hostNetwork sandbox has the node's IP", () => {
    assert.equal(sandboxOf([sandbox({ hostNetwork: true, ip: "" })], "192.168.0.1")?.ip, "192.168.0.1");
    const a = computePodActions(pod(), [sandbox({ hostNetwork: true, ip: "" })], ctx);
    assert.equal(a.sandbox?.ip, "192.168.0.1");
  });

  test("init containers: in order, each to completion; a failure under Never fails the pod", () => {
    const spec = {
      initContainers: [
        { name: "i1", image: "img:1" },
        { name: "i2", image: "img:1" },
      ],
    };
    const sb = sandbox();
    const i1ok = ctr({ name: "i1", type: "init", state: "exited", exitCode: 0 });
    assert.deepEqual(computePodActions(pod(spec), [sb], ctx).init, {
      type: "start",
      container: spec.initContainers[0],
    });
    const running = ctr({ name: "i2", type: "init", state: "running" });
    assert.deepEqual(computePodActions(pod(spec), [sb, i1ok, running], ctx).init, { type: "wait" });
    const failed = ctr({ name: "i2", type: "init", state: "exited", exitCode: 1 });
    assert.deepEqual(computePodActions(pod(spec), [sb, i1ok, failed], ctx).init, {
      type: "start",
      container: spec.initContainers[1],
      prev: failed,
    });
    assert.deepEqual(computePodActions(pod({ ...spec, restartPolicy: "Never" }), [sb, i1ok, failed], ctx).init, {
      type: "failed",
    });
    const done = ctr({ name: "i2", type: "init", state: "exited", exitCode: 0 });
    const a = computePodActions(pod(spec), [sb, i1ok, done], ctx);
    assert.equal(a.init, undefined);
    assert.equal(a.containers[0]?.type, "start");
  });

  test("app containers: restart policy, spec change, probe kill, a never-started leftover", () => {
    const sb = sandbox();
    const exited0 = ctr({ name: "c", type: "app", state: "exited", exitCode: 0 });
    assert.deepEqual(computePodActions(pod({ restartPolicy: "OnFailure" }), [sb, exited0], ctx).containers, [
      { type: "done", container: app },
    ]);
    assert.deepEqual(computePodActions(pod(), [sb, exited0], ctx).containers, [
      { type: "start", container: app, prev: exited0 },
    ]);

    const running = ctr({ name: "c", type: "app", state: "running" });
    assert.deepEqual(computePodActions(pod(), [sb, running], ctx).containers, [], "running and unchanged: no action");
    const changed = { name: "c", image: "img:2" };
    const [kill] = computePodActions(pod({ containers: [changed] }), [sb, running], ctx).containers;
    assert.equal(kill?.type, "kill");
    assert.match(kill?.type === "kill" ? kill.message : "", /definition changed/);

    const probeCtx = {
      ...ctx,
      killRequested: (id: string) => (id === running.id ? { kind: "liveness" as const } : undefined),
    };
    const [probeKill] = computePodActions(pod(), [sb, running], probeCtx).containers;
    assert.deepEqual(probeKill, {
      type: "kill",
      container: app,
      running,
      message: "Container c failed liveness probe, will be restarted",
      probe: "liveness",
    });

    const prev = ctr({ name: "c", type: "app", state: "exited", exitCode: 1, restartCount: 0 });
    const created = ctr({ name: "c", type: "app", state: "created", restartCount: 1 });
    assert.deepEqual(computePodActions(pod(), [sb, prev, created], ctx).containers, [
      { type: "start", container: app, prev, remove: created },
    ]);
  });
});

test("containersToRemove keeps the current and one previous instance", () => {
  const xs = [0, 1, 2, 3].map((n) => ctr({ name: "c", type: "app", state: "exited", restartCount: n }));
  assert.deepEqual(
    containersToRemove(pod(), xs).map((c) => c.restartCount),
    [1, 0],
  );
});

test("activeDeadlineLeftMs", () => {
  const p = pod({ activeDeadlineSeconds: 10 });
  assert.equal(activeDeadlineLeftMs(p, 0), undefined, "not started");
  p.status = { startTime: "2026-01-01T00:00:00Z" };
  assert.equal(activeDeadlineLeftMs(p, Date.parse("2026-01-01T00:00:04Z")), 6000);
  assert.equal(activeDeadlineLeftMs(pod(), 0), undefined);
});

describe("computePodActions: ephemeral containers", () => {
  const dbg = { name: "dbg", image: "busybox", targetContainerName: "c" };
  test("started once, before init containers, and never again whatever became of them", () => {
    const p = pod({ initContainers: [{ name: "i", image: "img:1" }], ephemeralContainers: [dbg] });
    const sb = sandbox();
    const a = computePodActions(p, [sb], ctx);
    assert.deepEqual(
      a.ephemeral.map((c) => c.name),
      ["dbg"],
    );
    assert.equal(a.init?.type, "start");
    for (const state of ["running", "exited"] as const) {
      const b = computePodActions(p, [sb, ctr({ name: "dbg", type: "ephemeral", state, exitCode: 1 })], ctx);
      assert.deepEqual(b.ephemeral, [], state);
    }
    // A leftover that was created but never started is started over.
    const c = computePodActions(p, [sb, ctr({ name: "dbg", type: "ephemeral", state: "created" })], ctx);
    assert.deepEqual(
      c.ephemeral.map((x) => x.name),
      ["dbg"],
    );
  });

  test("nothing without a ready sandbox", () => {
    const a = computePodActions(pod({ ephemeralContainers: [dbg] }), [], ctx);
    assert.deepEqual(a.ephemeral, []);
  });
});
