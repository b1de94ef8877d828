// generatePodStatus: the pure function from "what runs in the runtime" to a PodStatus, as the
// kubelet's generateAPIPodStatus/getPhase do upstream. The status manager compares its result with
// what the API server has and writes only differences.

import type { Container, ContainerState, ContainerStatus, Pod, PodCondition, PodStatus } from "#pkg/api/types/index.js";
import type { ContainerInfo, PodContainerType } from "./runtime/runtime.js";

export interface Waiting {
  reason: string;
  message?: string;
}

export interface PodRuntimeView {
  sandbox?: ContainerInfo;
  containers: ContainerInfo[];
  /** Overrides of the waiting reason per container name (ErrImagePull, CrashLoopBackOff, ...). */
  waiting: Map<string, Waiting>;
  /** Readiness per running container id (absent: no probe result yet). */
  readiness: Map<string, boolean>;
  /** Startup probe passed per container id. */
  started: Map<string, boolean>;
  /** Containers with a readiness probe whose result is required (by container name). */
  hasReadinessProbe: Set<string>;
  hasStartupProbe: Set<string>;
  /** image id → docker-pullable digest, when known. */
  imageRefs: Map<string, string>;
  hostIP: string;
  now: string;
  /** The kubelet failed the pod itself (e.g. DeadlineExceeded). */
  failure?: { reason: string; message: string };
}

/** instancesOf: a container's runtime instances, newest first (by restart count, then creation). */
export function instancesOf(containers: ContainerInfo[], name: string, type: PodContainerType): ContainerInfo[] {
  return containers
    .filter((c) => c.name === name && c.type === type)
    .sort((a, b) => b.restartCount - a.restartCount || (b.createdAt ?? "").localeCompare(a.createdAt ?? ""));
}

function terminated(c: ContainerInfo): ContainerState {
  return {
    terminated: {
      exitCode: c.exitCode ?? 0,
      reason: c.reason ?? "Error",
      ...(c.startedAt ? { startedAt: c.startedAt } : {}),
      ...(c.finishedAt ? { finishedAt: c.finishedAt } : {}),
      containerID: `docker://${c.id}`,
    },
  };
}

function containerStatus(
  spec: Container,
  instances: ContainerInfo[],
  view: PodRuntimeView,
  defaultWaiting: string,
): ContainerStatus {
  const cur = instances[0];
  const prev = instances[1];
  const st: ContainerStatus = {
    name: spec.name,
    state: { waiting: { reason: defaultWaiting } },
    lastState: {},
    ready: false,
    restartCount: cur?.restartCount ?? 0,
    image: spec.image ?? "",
    imageID: "",
    started: false,
  };
  if (cur) {
    st.imageID = view.imageRefs.get(cur.imageId) ?? `docker://${cur.imageId}`;
    st.containerID = `docker://${cur.id}`;
  }
  const override = view.waiting.get(spec.name);
  if (cur?.state === "running" && !override) {
    st.state = { running: cur.startedAt ? { startedAt: cur.startedAt } : {} };
    if (prev?.state === "exited") st.lastState = terminated(prev);
    const started = view.hasStartupProbe.has(spec.name) ? view.started.get(cur.id) === true : true;
    st.started = started;
    const ready = view.hasReadinessProbe.has(spec.name) ? view.readiness.get(cur.id) === true : true;
    st.ready = started && ready;
  } else if (override) {
    st.state = { waiting: { reason: override.reason, ...(override.message ? { message: override.message } : {}) } };
    if (cur?.state === "exited") st.lastState = terminated(cur);
    else if (prev?.state === "exited") st.lastState = terminated(prev);
  } else if (cur?.state === "exited") {
    st.state = terminated(cur);
    if (prev?.state === "exited") st.lastState = terminated(prev);
  }
  return st;
}

/** getPhase follows upstream kubelet's getPhase for app containers. */
export function getPhase(pod: Pod, initStatuses: ContainerStatus[], statuses: ContainerStatus[]): string {
  const policy = pod.spec?.restartPolicy ?? "Always";
  for (const s of initStatuses) {
    const t = s.state?.terminated;
    if (t && t.exitCode === 0) continue;
    if (t && policy === "Never") return "Failed";
    if (!t && s.lastState?.terminated && policy === "Never") return "Failed";
    return "Pending";
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of statuses) {
    if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    }
  }
  if (waiting > 0) return "Pending";
  if (running > 0) return "Running";
  if (stopped > 0) {
    if (policy === "Always") return "Running";
    if (stopped === succeeded) return "Succeeded";
    if (policy === "OnFailure") return "Running";
    return "Failed";
  }
  return "Pending";
}

function condition(type: string, ok: boolean, reason?: string, message?: string): PodCondition {
  return {
    type,
    status: ok ? "True" : "False",
    lastProbeTime: null,
    ...(ok || !reason ? {} : { reason }),
    ...(ok || !message ? {} : { message }),
  };
}

/** generatePodStatus computes the pod's status; `old` supplies transition times that did not change. */
export function generatePodStatus(pod: Pod, view: PodRuntimeView): PodStatus {
  const old = pod.status ?? {};
  const spec = pod.spec;
  const initSpecs = spec?.initContainers ?? [];
  const initStatuses = initSpecs.map((c) =>
    containerStatus(c, instancesOf(view.containers, c.name, "init"), view, "PodInitializing"),
  );
  // Init containers are never "ready" in the ContainersReady sense; upstream reports them ready once done.
  for (const s of initStatuses) s.ready = s.state?.terminated?.exitCode === 0;
  const initialized = initStatuses.every((s) => s.state?.terminated?.exitCode === 0);
  const statuses = (spec?.containers ?? []).map((c) =>
    containerStatus(
      c,
      instancesOf(view.containers, c.name, "app"),
      view,
      initialized ? "ContainerCreating" : "PodInitializing",
    ),
  );
  let phase = getPhase(pod, initStatuses, statuses);
  // Terminal phases are final (upstream never moves a pod out of Succeeded/Failed).
  if (old.phase === "Succeeded" || old.phase === "Failed") phase = old.phase;
  else if (view.failure) phase = "Failed";

  const sandboxReady = view.sandbox?.state === "running" && !!view.sandbox.ip;
  const notReady = statuses.filter((s) => !s.ready).map((s) => s.name);
  const notInit = initStatuses.filter((s) => !(s.state?.terminated?.exitCode === 0)).map((s) => s.name);
  const done = phase === "Succeeded" || phase === "Failed";
  const containersReady = notReady.length === 0 && !done;
  const readyReason = done ? "PodCompleted" : "ContainersNotReady";
  const readyMsg = done ? undefined : `containers with unready status: [${notReady.join(" ")}]`;
  const owned: PodCondition[] = [
    condition("PodReadyToStartContainers", sandboxReady),
    condition(
      "Initialized",
      initialized,
      "ContainersNotInitialized",
      `containers with incomplete status: [${notInit.join(" ")}]`,
    ),
    condition("Ready", containersReady, readyReason, readyMsg),
    condition("ContainersReady", containersReady, readyReason, readyMsg),
  ];
  const ownedTypes = new Set(owned.map((c) => c.type));
  const oldConds = old.conditions ?? [];
  const conditions: PodCondition[] = [];
  const scheduled = oldConds.find((c) => c.type === "PodScheduled");
  conditions.push(
    scheduled ?? { type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: view.now },
  );
  for (const c of owned) {
    const prev = oldConds.find((o) => o.type === c.type);
    c.lastTransitionTime =
      prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : view.now;
    conditions.push(c);
  }
  // Conditions other writers own (DisruptionTarget, readiness gates) are kept as they are.
  for (const c of oldConds) if (c.type !== "PodScheduled" && !ownedTypes.has(c.type)) conditions.push(c);

  const podIP = view.sandbox?.state === "running" ? view.sandbox.ip : old.podIP;
  const status: PodStatus = {
    ...old,
    phase,
    conditions,
    hostIP: view.hostIP,
    hostIPs: [{ ip: view.hostIP }],
    startTime: old.startTime ?? view.now,
    containerStatuses: statuses,
  };
  if (podIP) {
    status.podIP = podIP;
    status.podIPs = [{ ip: podIP }];
  }
  if (view.failure && old.phase !== "Succeeded" && old.phase !== "Failed") {
    status.reason = view.failure.reason;
    status.message = view.failure.message;
  }
  if (initSpecs.length > 0) status.initContainerStatuses = initStatuses;
  else delete status.initContainerStatuses;
  // Ephemeral containers are never ready and count for neither the phase nor the conditions.
  const ephemeral = spec?.ephemeralContainers ?? [];
  if (ephemeral.length > 0) {
    status.ephemeralContainerStatuses = ephemeral.map((c) => ({
      ...containerStatus(c, instancesOf(view.containers, c.name, "ephemeral"), view, "ContainerCreating"),
      ready: false,
    }));
  } else delete status.ephemeralContainerStatuses;
  return status;
}
