// computePodActions: upstream's kuberuntime computePodActions, as a pure function. Given the pod
// and the runtime's view of its containers, what must happen: (re)create the sandbox (killing
// what still runs in the old one), which init container to work on, and for each app container
// whether to start, restart or kill it. syncPod executes the plan; it never decides itself.

import type { Container, EphemeralContainer, Pod } from "#pkg/api/types/index.js";
import { instancesOf } from "./pod-status.js";
import type { ProbeKind } from "./prober.js";
import type { ContainerInfo } from "./runtime/runtime.js";
import { hashContainer } from "./spec.js";

/** What to do with one app container, in spec order. Containers left as they are have no action. */
export type ContainerAction =
  /** Kill the running instance (spec changed, or a liveness/startup probe failed), then start it again. */
  | { type: "kill"; container: Container; running: ContainerInfo; message: string; probe?: ProbeKind }
  /** Start a new instance; `prev` (an exited one) counts for CrashLoopBackOff, `remove` is a never-started leftover. */
  | { type: "start"; container: Container; prev?: ContainerInfo; remove?: ContainerInfo }
  /** Exited and the restart policy keeps it so: nothing to wait for. */
  | { type: "done"; container: Container };

/** The next init container step: wait for the running one, the pod failed, or start one. */
export type InitAction =
  | { type: "wait" }
  | { type: "failed" }
  | { type: "start"; container: Container; prev?: ContainerInfo; remove?: ContainerInfo };

export interface PodActions {
  /** The running sandbox, with its IP (the node's for hostNetwork), when the pod has one. */
  sandbox?: ContainerInfo;
  /** No usable sandbox and the pod still has work: create one (upstream: CreateSandbox). */
  createSandbox: boolean;
  /** Attempt number of the sandbox to create. */
  attempt: number;
  /** The old sandbox (replaced by the new one, then removed). */
  oldSandbox?: ContainerInfo;
  /** Containers still running in a sandbox that is being replaced (upstream: KillPod). */
  killPod: ContainerInfo[];
  /** Undefined once every init container has succeeded. */
  init?: InitAction;
  /** Ephemeral containers never started: each runs once, whatever becomes of it, never again. */
  ephemeral: EphemeralContainer[];
  containers: ContainerAction[];
}

export interface PodActionsContext {
  nodeIP: string;
  /** The liveness/startup probe kill request of a running container, if any. */
  killRequested(containerId: string): { kind: ProbeKind } | undefined;
}

/** sandboxOf: the pod's newest sandbox; a hostNetwork sandbox has the node's IP. */
export function sandboxOf(containers: ContainerInfo[], nodeIP: string): ContainerInfo | undefined {
  const sb = containers
    .filter((c) => c.type === "sandbox")
    .sort((a, b) => b.restartCount - a.restartCount || (b.createdAt ?? "").localeCompare(a.createdAt ?? ""))[0];
  return sb?.hostNetwork ? { ...sb, ip: nodeIP } : sb;
}

/** computePodActions: see the file header. `containers` are the pod's runtime containers. */
export function computePodActions(pod: Pod, containers: ContainerInfo[], ctx: PodActionsContext): PodActions {
  const spec = pod.spec;
  const policy = spec?.restartPolicy ?? "Always";
  const current = sandboxOf(containers, ctx.nodeIP);
  const ready = current?.state === "running" && !!current.ip;
  if (!ready) {
    // A pod whose containers have all finished for good needs no new sandbox (it keeps its logs).
    const allDone =
      policy !== "Always" &&
      (spec?.containers ?? []).every((c) => {
        const cur = instancesOf(containers, c.name, "app")[0];
        return cur?.state === "exited" && (policy === "Never" || cur.exitCode === 0);
      });
    return {
      createSandbox: !allDone,
      attempt: current ? current.restartCount + 1 : 0,
      ...(current ? { oldSandbox: current } : {}),
      killPod: !allDone && current ? containers.filter((c) => c.state === "running") : [],
      containers: [],
      ephemeral: [],
    };
  }
  const actions: PodActions = {
    sandbox: current,
    createSandbox: false,
    attempt: 0,
    killPod: [],
    containers: [],
    // Started before init containers, as upstream, so a pod stuck in one can be debugged.
    ephemeral: (spec?.ephemeralContainers ?? []).filter((c) =>
      instancesOf(containers, c.name, "ephemeral").every((i) => i.state === "created"),
    ),
  };

  for (const ic of spec?.initContainers ?? []) {
    const cur = instancesOf(containers, ic.name, "init")[0];
    if (cur?.state === "exited" && cur.exitCode === 0) continue;
    if (cur?.state === "running") actions.init = { type: "wait" };
    else if (cur?.state === "exited" && policy === "Never") actions.init = { type: "failed" };
    else
      actions.init = {
        type: "start",
        container: ic,
        ...(cur?.state === "exited" ? { prev: cur } : {}),
        ...(cur?.state === "created" ? { remove: cur } : {}),
      };
    return actions;
  }

  for (const c of spec?.containers ?? []) {
    const inst = instancesOf(containers, c.name, "app");
    let cur = inst[0];
    if (cur?.state === "running") {
      const probeKill = ctx.killRequested(cur.id);
      if (cur.hash && cur.hash !== hashContainer(c))
        actions.containers.push({
          type: "kill",
          container: c,
          running: cur,
          message: `Container ${c.name} definition changed, will be restarted`,
        });
      else if (probeKill)
        actions.containers.push({
          type: "kill",
          container: c,
          running: cur,
          message: `Container ${c.name} failed ${probeKill.kind} probe, will be restarted`,
          probe: probeKill.kind,
        });
      continue;
    }
    let remove: ContainerInfo | undefined;
    if (cur?.state === "created") {
      // A crash between create and start: start it over.
      remove = cur;
      cur = inst[1];
    }
    const withRemove = remove ? { remove } : {};
    if (!cur || cur.state === "created") {
      actions.containers.push({ type: "start", container: c, ...withRemove });
      continue;
    }
    const restart = policy === "Always" || (policy === "OnFailure" && cur.exitCode !== 0);
    actions.containers.push(
      restart ? { type: "start", container: c, prev: cur, ...withRemove } : { type: "done", container: c },
    );
  }
  return actions;
}

/**
 * containersToRemove: garbage, keeping the current and one previous instance of each container
 * (for logs --previous); running instances are never garbage.
 */
export function containersToRemove(pod: Pod, containers: ContainerInfo[]): ContainerInfo[] {
  const out: ContainerInfo[] = [];
  for (const [name, type] of [
    ...(pod.spec?.containers ?? []).map((x) => [x.name, "app"] as const),
    ...(pod.spec?.initContainers ?? []).map((x) => [x.name, "init"] as const),
  ])
    for (const old of instancesOf(containers, name, type).slice(2)) if (old.state !== "running") out.push(old);
  return out;
}

/** activeDeadlineLeftMs: ms until spec.activeDeadlineSeconds passes (≤ 0: passed); undefined without one. */
export function activeDeadlineLeftMs(pod: Pod, nowMs: number): number | undefined {
  const deadline = pod.spec?.activeDeadlineSeconds;
  const start = pod.status?.startTime ? Date.parse(pod.status.startTime) : undefined;
  if (deadline === undefined || start === undefined) return undefined;
  return start + deadline * 1000 - nowMs;
}
