// core/v1 Pod (upstream pkg/registry/core/pod/strategy.go, printers.go printPod): defaults,
// status/spec separation, update rules, and the
// READY/STATUS/RESTARTS columns with kubectl's status logic.

import { defaultPodSpec, podQOSClass } from "#pkg/api/defaults.js";
import { humanDuration } from "#pkg/api/duration.js";
import { type FieldError, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { DeleteOptions } from "#pkg/api/meta.js";
import { canonicalQuantity, isValidQuantity } from "#pkg/api/quantity.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { Binding, Container, Pod, PodSpec, Toleration } from "#pkg/api/types/core.js";
import { age, ageCol, type Cell, clone, col, deepEqual, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";
import { validatePodSpec } from "./podspec.js";

/** Quantities are stored in canonical form, as upstream does ("0.5" -> "500m", 1 -> "1"). */
export function canonicalizeResources(spec: PodSpec | undefined): void {
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    for (const kind of ["limits", "requests"] as const) {
      const m = c?.resources?.[kind];
      if (!m || typeof m !== "object") continue;
      for (const [k, q] of Object.entries(m)) if (isValidQuantity(q)) m[k] = canonicalQuantity(q);
    }
  }
}

/** Spec defaults every pod spec gets (pods and templates). */
export function defaultPodSpecAndCanonicalize(spec: PodSpec | undefined): void {
  if (!spec || typeof spec !== "object") return;
  defaultPodSpec(spec);
  canonicalizeResources(spec);
  // v1 conversion mirrors the deprecated field.
  if (spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
}

// ---------------------------------------------------------------- update rules

const POD_UPDATE_FORBIDDEN =
  "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

function tolerationsOnlyAdded(newT: Toleration[] | undefined, oldT: Toleration[] | undefined): boolean {
  const n = newT ?? [];
  return (oldT ?? []).every((o) => n.some((x) => deepEqual(x, o)));
}

/** ValidatePodUpdate: the spec is immutable except images, activeDeadlineSeconds and added tolerations. */
export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validatePodSpec(pod.spec, "spec");
  const ns = pod.spec;
  const os = old.spec;
  if (!ns || !os) return errs;
  const ad = ns.activeDeadlineSeconds;
  const oad = os.activeDeadlineSeconds;
  if (oad !== undefined && (ad === undefined || ad > oad)) {
    errs.push(fieldInvalid("spec.activeDeadlineSeconds", ad ?? null, "must be less than or equal to previous value"));
  }
  if (!tolerationsOnlyAdded(ns.tolerations, os.tolerations)) {
    errs.push(
      fieldForbidden("spec.tolerations", "existing toleration can not be modified except its tolerationSeconds"),
    );
  }
  // Compare the rest: copy the mutable fields from old into a copy of new.
  const mutable = clone(ns);
  const copyImages = (to: Container[] | undefined, from: Container[] | undefined) => {
    if (!to || !from || to.length !== from.length) return;
    to.forEach((c, i) => {
      const o = from[i];
      if (o && c) c.image = o.image;
    });
  };
  copyImages(mutable.containers, os.containers);
  copyImages(mutable.initContainers, os.initContainers);
  mutable.activeDeadlineSeconds = os.activeDeadlineSeconds;
  mutable.tolerations = os.tolerations;
  if ((os.terminationGracePeriodSeconds ?? 0) < 0 && ns.terminationGracePeriodSeconds === 1) {
    mutable.terminationGracePeriodSeconds = os.terminationGracePeriodSeconds;
  }
  if (!deepEqual(mutable, os)) errs.push(fieldForbidden("spec", POD_UPDATE_FORBIDDEN));
  return errs;
}

/** upstream ValidatePodCreate: ephemeral containers come only through pods/{name}/ephemeralcontainers. */
export function validatePodCreate(pod: Pod): FieldError[] {
  const errs = validatePodSpec(pod.spec, "spec");
  if ((pod.spec?.ephemeralContainers ?? []).length > 0) {
    errs.push(fieldForbidden("spec.ephemeralContainers", "cannot have ephemeral containers on create"));
  }
  return errs;
}

const MIRROR_POD_ANNOTATION = "kubernetes.io/config.mirror";

/**
 * pods/{name}/ephemeralcontainers stores the old pod with only spec.ephemeralContainers taken
 * from the request (upstream dropNonEphemeralContainerUpdates): metadata, the rest of the spec
 * and the status stay as they are. The generation counts the change, as a spec change.
 */
export function prepareEphemeralContainersUpdate(pod: Pod, old: Pod): Pod {
  const next = clone(old);
  next.metadata.resourceVersion = pod.metadata.resourceVersion;
  const ecs = pod.spec?.ephemeralContainers;
  if (next.spec) {
    if (ecs === undefined) delete next.spec.ephemeralContainers;
    else next.spec.ephemeralContainers = clone(ecs);
  }
  if (!deepEqual(next.spec?.ephemeralContainers, old.spec?.ephemeralContainers)) {
    next.metadata.generation = (old.metadata.generation ?? 1) + 1;
  }
  return next;
}

/**
 * upstream ValidatePodEphemeralContainersUpdate: the new spec is valid, a static pod has none,
 * and existing ephemeral containers are neither removed nor changed (matched by name, since a
 * patch does not keep their order).
 */
export function validateEphemeralContainersUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validatePodSpec(pod.spec, "spec");
  if (old.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) {
    return [fieldForbidden("", "static pods do not support ephemeral containers")];
  }
  const byName = new Map((pod.spec?.ephemeralContainers ?? []).map((c) => [c.name, c]));
  for (const o of old.spec?.ephemeralContainers ?? []) {
    const n = byName.get(o.name);
    if (!n) {
      errs.push(
        fieldForbidden("spec.ephemeralContainers", `existing ephemeral containers "${o.name}" may not be removed\n`),
      );
    } else if (!deepEqual(n, o)) {
      errs.push(
        fieldForbidden("spec.ephemeralContainers", `existing ephemeral containers "${o.name}" may not be changed\n`),
      );
    }
  }
  return errs;
}

const PHASES = ["Pending", "Running", "Succeeded", "Failed", "Unknown"] as const;
const IP_RE = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F:]+:[0-9a-fA-F:.]*)$/;

/** The parts of a status upstream checks (ValidatePodStatusUpdate). */
export function validatePodStatus(pod: Pod): FieldError[] {
  const errs: FieldError[] = [];
  const st = pod.status;
  if (!st) return errs;
  if (st.phase !== undefined && !(PHASES as readonly string[]).includes(st.phase)) {
    errs.push(fieldNotSupported("status.phase", st.phase, PHASES));
  }
  (st.podIPs ?? []).forEach((p, i) => {
    if (!IP_RE.test(p.ip ?? "")) errs.push(fieldInvalid(`status.podIPs[${i}].ip`, p.ip, "must be a valid IP address"));
  });
  if (st.podIP && st.podIPs?.length && st.podIPs[0]?.ip !== st.podIP) {
    errs.push(fieldInvalid("status.podIPs[0].ip", st.podIPs[0]?.ip, "must be equal to `status.podIP`"));
  }
  if (st.nominatedNodeName) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(st.nominatedNodeName)) {
      errs.push(fieldInvalid("status.nominatedNodeName", st.nominatedNodeName, "must be a valid node name"));
    }
  }
  return errs;
}

/** pods/binding body (upstream: ValidatePodBinding). */
export function validateBinding(b: Binding): FieldError[] {
  const errs: FieldError[] = [];
  const kind = b.target?.kind;
  if (kind && kind !== "Node") errs.push(fieldNotSupported("target.kind", kind, ["Node", "<empty>"]));
  if (!b.target?.name) errs.push(fieldRequired("target.name"));
  return errs;
}

// ---------------------------------------------------------------- printing

const isRestartableInit = (c: Container | undefined): boolean => c?.restartPolicy === "Always";

interface PodPrint {
  ready: string;
  status: string;
  restarts: number;
  lastRestart: number | undefined;
}

/** kubectl's pod STATUS column (printers.go printPod). */
export function podPrintStatus(pod: Pod): PodPrint {
  const spec = pod.spec ?? { containers: [] };
  const status = pod.status ?? {};
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = spec.containers?.length ?? 0;
  let readyContainers = 0;
  let lastRestart: number | undefined;
  let lastRestartableInitRestart: number | undefined;
  let reason = status.reason || status.phase || "";

  for (const c of status.conditions ?? []) {
    if (c.type === "PodScheduled" && c.reason === "SchedulingGated") reason = "SchedulingGated";
  }
  const initByName = new Map((spec.initContainers ?? []).map((c) => [c.name, c]));
  for (const c of spec.initContainers ?? []) if (isRestartableInit(c)) totalContainers++;

  const later = (a: number | undefined, t: string | undefined): number | undefined => {
    if (!t) return a;
    const v = Date.parse(t);
    return Number.isNaN(v) ? a : a === undefined || v > a ? v : a;
  };

  let initializing = false;
  const inits = status.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const cs = inits[i];
    if (!cs) continue;
    restarts += cs.restartCount ?? 0;
    lastRestart = later(lastRestart, cs.lastState?.terminated?.finishedAt);
    const restartable = isRestartableInit(initByName.get(cs.name));
    if (restartable) {
      restartableInitRestarts += cs.restartCount ?? 0;
      lastRestartableInitRestart = later(lastRestartableInitRestart, cs.lastState?.terminated?.finishedAt);
    }
    const term = cs.state?.terminated;
    const wait = cs.state?.waiting;
    if (term && term.exitCode === 0) continue;
    if (restartable && cs.started) {
      if (cs.ready) readyContainers++;
      continue;
    }
    if (term) {
      if (!term.reason) reason = term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
      else reason = `Init:${term.reason}`;
    } else if (wait?.reason && wait.reason !== "PodInitializing") {
      reason = `Init:${wait.reason}`;
    } else {
      reason = `Init:${i}/${spec.initContainers?.length ?? 0}`;
    }
    initializing = true;
    break;
  }

  const initialized = (status.conditions ?? []).some((c) => c.type === "Initialized" && c.status === "True");
  if (!initializing || initialized) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      if (!cs) continue;
      restarts += cs.restartCount ?? 0;
      lastRestart = later(lastRestart, cs.lastState?.terminated?.finishedAt);
      const wait = cs.state?.waiting;
      const term = cs.state?.terminated;
      if (wait?.reason) reason = wait.reason;
      else if (term?.reason) reason = term.reason;
      else if (term) reason = term.signal ? `Signal:${term.signal}` : `ExitCode:${term.exitCode}`;
      else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === "Completed" && hasRunning) {
      const podReady = (status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
      reason = podReady ? "Running" : "NotReady";
    }
  }

  const terminal = status.phase === "Succeeded" || status.phase === "Failed";
  if (pod.metadata.deletionTimestamp && status.reason === "NodeLost") reason = "Unknown";
  else if (pod.metadata.deletionTimestamp && !terminal) reason = "Terminating";

  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts, lastRestart };
}

const POD_COLUMNS = [
  nameCol(),
  col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
  col("Status", "string", "The aggregate status of the containers in this pod."),
  col(
    "Restarts",
    "string",
    "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
  ),
  ageCol(),
  col(
    "IP",
    "string",
    "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    1,
  ),
  col("Node", "string", "NodeName indicates in which node this pod is scheduled.", 1),
  col("Nominated Node", "string", "nominatedNodeName is set only when this pod preempts other pods on the node.", 1),
  col("Readiness Gates", "string", "If specified, all readiness gates will be evaluated for pod readiness.", 1),
];

export function podRow(pod: Pod, now: Date): Cell[] {
  const p = podPrintStatus(pod);
  let restarts = String(p.restarts);
  if (p.restarts !== 0 && p.lastRestart !== undefined) {
    restarts = `${p.restarts} (${humanDuration(now.getTime() - p.lastRestart)} ago)`;
  }
  const status = pod.status ?? {};
  const podIP = status.podIPs?.[0]?.ip || status.podIP || "<none>";
  let gates = "<none>";
  const rg = pod.spec?.readinessGates ?? [];
  if (rg.length > 0) {
    const trueCount = rg.filter((g) =>
      (status.conditions ?? []).find((c) => c.type === g.conditionType && c.status === "True"),
    ).length;
    gates = `${trueCount}/${rg.length}`;
  }
  return [
    pod.metadata.name ?? "",
    p.ready,
    p.status,
    restarts,
    age(pod, now),
    podIP,
    pod.spec?.nodeName || "<none>",
    status.nominatedNodeName || "<none>",
    gates,
  ];
}

export function podSelectableFields(pod: Pod): Record<string, string> {
  const st = pod.status ?? {};
  return {
    "spec.nodeName": pod.spec?.nodeName ?? "",
    "spec.restartPolicy": pod.spec?.restartPolicy ?? "",
    "spec.schedulerName": pod.spec?.schedulerName ?? "",
    "spec.serviceAccountName": pod.spec?.serviceAccountName ?? "",
    "spec.hostNetwork": String(pod.spec?.hostNetwork === true),
    "status.phase": st.phase ?? "",
    "status.podIP": st.podIPs?.[0]?.ip ?? st.podIP ?? "",
    "status.nominatedNodeName": st.nominatedNodeName ?? "",
  };
}

/**
 * upstream CheckGracefulDelete: a pod a kubelet may still be running waits for it (the request's
 * grace period, else the pod's, else 30 s); an unbound or finished pod goes at once.
 */
export function podGracePeriodSeconds(pod: Pod, opts: DeleteOptions): number {
  const phase = pod.status?.phase;
  if (!pod.spec?.nodeName || phase === "Succeeded" || phase === "Failed") return 0;
  return opts.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
}

export function podStrategy(r: ResourceInfo): Strategy<Pod> {
  return makeStrategy<Pod>(
    r,
    {
      returnDeletedObject: true,
      applyDefaults(pod) {
        defaultPodSpecAndCanonicalize(pod.spec);
      },
      prepareForCreate(pod) {
        pod.status = { phase: "Pending", qosClass: podQOSClass(pod.spec) };
      },
      prepareForStatusUpdate(pod, old) {
        // Old kubelets corrupted owner references through the status endpoint; upstream keeps them.
        if (old.metadata.ownerReferences) pod.metadata.ownerReferences = clone(old.metadata.ownerReferences);
        else delete pod.metadata.ownerReferences;
        if (old.metadata.deletionTimestamp) pod.metadata.deletionTimestamp = old.metadata.deletionTimestamp;
        // The QoS class is fixed at creation; a status writer that leaves it out does not erase it.
        if (old.status?.qosClass && pod.status && !pod.status.qosClass) pod.status.qosClass = old.status.qosClass;
      },
      gracePeriodSeconds: podGracePeriodSeconds,
      validate: validatePodCreate,
      ephemeralContainersUpdate: {
        prepare: prepareEphemeralContainersUpdate,
        validate: validateEphemeralContainersUpdate,
      },
      validateUpdate: (pod, old) => [...validatePodUpdate(pod, old), ...validatePodStatus(pod)],
      selectableFields: podSelectableFields,
      columns: POD_COLUMNS,
      row: podRow,
    },
    { generation: true },
  );
}
