import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Pod } from "#pkg/api/types/index.js";
import { generatePodStatus, type PodRuntimeView } from "./pod-status.js";
import type { ContainerInfo } from "./runtime/runtime.js";

const NOW = "2026-01-01T00:00:10Z";

function pod(restartPolicy = "Always", initContainers: string[] = []): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", namespace: "default", uid: "u" },
    spec: {
      restartPolicy,
      containers: [
        { name: "a", image: "img" },
        { name: "b", image: "img" },
      ],
      ...(initContainers.length ? { initContainers: initContainers.map((name) => ({ name, image: "img" })) } : {}),
    },
    status: { phase: "Pending" },
  };
}

function c(name: string, state: ContainerInfo["state"], extra: Partial<ContainerInfo> = {}): ContainerInfo {
  return {
    id: `${name}-${extra.restartCount ?? 0}`,
    name,
    type: "app",
    podUid: "u",
    podName: "p",
    podNamespace: "default",
    restartCount: 0,
    hash: "",
    state,
    image: "img",
    imageId: "sha256:1",
    startedAt: "2026-01-01T00:00:01Z",
    ...(state === "exited" ? { exitCode: 0, reason: "Completed", finishedAt: "2026-01-01T00:00:02Z" } : {}),
    ...extra,
  };
}

function view(containers: ContainerInfo[], extra: Partial<PodRuntimeView> = {}): PodRuntimeView {
  return {
    sandbox: { ...c("POD", "running"), type: "sandbox", ip: "172.18.0.2" },
    containers,
    waiting: new Map(),
    readiness: new Map(),
    started: new Map(),
    hasReadinessProbe: new Set(),
    hasStartupProbe: new Set(),
    imageRefs: new Map(),
    hostIP: "10.0.0.1",
    now: NOW,
    ...extra,
  };
}

describe("generatePodStatus", () => {
  test("all running: Running and Ready, IPs and containerIDs", () => {
    const s = generatePodStatus(pod(), view([c("a", "running"), c("b", "running")]));
    assert.equal(s.phase, "Running");
    assert.equal(s.podIP, "172.18.0.2");
    assert.deepEqual(s.podIPs, [{ ip: "172.18.0.2" }]);
    assert.equal(s.hostIP, "10.0.0.1");
    assert.equal(s.containerStatuses?.[0]?.containerID, "docker://a-0");
    assert.equal(s.containerStatuses?.[0]?.imageID, "docker://sha256:1");
    assert.deepEqual(s.containerStatuses?.[0]?.state, { running: { startedAt: "2026-01-01T00:00:01Z" } });
    const ready = s.conditions?.find((x) => x.type === "Ready");
    assert.equal(ready?.status, "True");
    assert.deepEqual(
      s.conditions?.map((x) => x.type),
      ["PodScheduled", "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady"],
    );
  });

  test("one not started yet: Pending, ContainerCreating, not Ready", () => {
    const s = generatePodStatus(pod(), view([c("a", "running")]));
    assert.equal(s.phase, "Pending");
    assert.deepEqual(s.containerStatuses?.[1]?.state, { waiting: { reason: "ContainerCreating" } });
    const ready = s.conditions?.find((x) => x.type === "Ready");
    assert.equal(ready?.status, "False");
    assert.equal(ready?.message, "containers with unready status: [b]");
  });

  test("crash loop: waiting CrashLoopBackOff with lastState, restartCount, phase Running", () => {
    const waiting = new Map([["b", { reason: "CrashLoopBackOff", message: "back-off 10s" }]]);
    const s = generatePodStatus(
      pod(),
      view([c("a", "running"), c("b", "exited", { restartCount: 3, exitCode: 1, reason: "Error" })], { waiting }),
    );
    assert.equal(s.phase, "Running");
    const b = s.containerStatuses?.[1];
    assert.equal(b?.restartCount, 3);
    assert.equal(b?.state?.waiting?.reason, "CrashLoopBackOff");
    assert.equal(b?.lastState?.terminated?.exitCode, 1);
  });

  test("restartPolicy Never: all exited 0 → Succeeded; one non-zero → Failed", () => {
    assert.equal(generatePodStatus(pod("Never"), view([c("a", "exited"), c("b", "exited")])).phase, "Succeeded");
    const failed = generatePodStatus(
      pod("Never"),
      view([c("a", "exited"), c("b", "exited", { exitCode: 2, reason: "Error" })]),
    );
    assert.equal(failed.phase, "Failed");
    assert.equal(failed.containerStatuses?.[1]?.state?.terminated?.exitCode, 2);
    assert.equal(failed.conditions?.find((x) => x.type === "Ready")?.reason, "PodCompleted");
  });

  test("readiness probe gates Ready", () => {
    const v = view([c("a", "running"), c("b", "running")], { hasReadinessProbe: new Set(["b"]) });
    assert.equal(generatePodStatus(pod(), v).conditions?.find((x) => x.type === "Ready")?.status, "False");
    v.readiness.set("b-0", true);
    assert.equal(generatePodStatus(pod(), v).conditions?.find((x) => x.type === "Ready")?.status, "True");
  });

  test("init containers: Pending with PodInitializing until done", () => {
    const init = { ...c("i", "running"), type: "init" as const };
    const s = generatePodStatus(pod("Always", ["i"]), view([init]));
    assert.equal(s.phase, "Pending");
    assert.equal(s.containerStatuses?.[0]?.state?.waiting?.reason, "PodInitializing");
    assert.equal(s.conditions?.find((x) => x.type === "Initialized")?.status, "False");
  });

  test("transition times are kept while a condition does not change", () => {
    const p = pod();
    const first = generatePodStatus(p, view([c("a", "running"), c("b", "running")]));
    p.status = first;
    const again = generatePodStatus(p, view([c("a", "running"), c("b", "running")], { now: "2026-01-01T00:01:00Z" }));
    assert.deepEqual(again, first);
  });
});

describe("generatePodStatus: ephemeral containers", () => {
  const withDebugger = (): Pod => {
    const p = pod();
    if (p.spec) p.spec.ephemeralContainers = [{ name: "dbg", image: "busybox" }];
    return p;
  };
  test("ephemeralContainerStatuses: waiting, running, terminated; never ready, no say in phase or Ready", () => {
    const apps = [c("a", "running"), c("b", "running")];
    const none = generatePodStatus(withDebugger(), view(apps));
    assert.equal(none.ephemeralContainerStatuses?.[0]?.state?.waiting?.reason, "ContainerCreating");
    assert.equal(none.phase, "Running");
    assert.equal(none.conditions?.find((x) => x.type === "Ready")?.status, "True");
    const running = generatePodStatus(withDebugger(), view([...apps, { ...c("dbg", "running"), type: "ephemeral" }]));
    const st = running.ephemeralContainerStatuses?.[0];
    assert.ok(st?.state?.running);
    assert.equal(st?.ready, false);
    assert.equal(st?.containerID, "docker://dbg-0");
    const done = generatePodStatus(withDebugger(), view([...apps, { ...c("dbg", "exited"), type: "ephemeral" }]));
    assert.equal(done.ephemeralContainerStatuses?.[0]?.state?.terminated?.reason, "Completed");
    assert.equal(done.phase, "Running");
    // The app statuses do not include it.
    assert.deepEqual(
      done.containerStatuses?.map((x) => x.name),
      ["a", "b"],
    );
    assert.equal(generatePodStatus(pod(), view(apps)).ephemeralContainerStatuses, undefined);
  });
});
