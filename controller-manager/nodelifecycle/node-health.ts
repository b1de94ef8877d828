// The node lifecycle controller's decisions as pure functions (upstream
// node_lifecycle_controller.go's tryUpdateNodeHealth, doNoScheduleTaintingPass,
// doNoExecuteTaintingPass and ComputeZoneState): when a node's heartbeat (its Lease in
// kube-node-lease, or its Ready condition's lastHeartbeatTime) was last seen to change, on the
// controller's own clock so clock skew between machines does not matter; which conditions go
// Unknown when it is stale; which taints the conditions call for; how disrupted a zone is.

import {
  TAINT_NODE_DISK_PRESSURE,
  TAINT_NODE_MEMORY_PRESSURE,
  TAINT_NODE_NETWORK_UNAVAILABLE,
  TAINT_NODE_NOT_READY,
  TAINT_NODE_PID_PRESSURE,
  TAINT_NODE_UNREACHABLE,
  TAINT_NODE_UNSCHEDULABLE,
  taintExists,
} from "#pkg/api/taints.js";
import { metaTime } from "#pkg/api/time.js";
import type { Lease } from "#pkg/api/types/coordination.js";
import type { Node, NodeCondition, NodeStatus, Taint } from "#pkg/api/types/core.js";

export const NODE_READY = "Ready";

/** UnreachableTaintTemplate / NotReadyTaintTemplate. */
export const UNREACHABLE_TAINT: Taint = { key: TAINT_NODE_UNREACHABLE, effect: "NoExecute" };
export const NOT_READY_TAINT: Taint = { key: TAINT_NODE_NOT_READY, effect: "NoExecute" };

/** nodeConditionToTaintKeyStatusMap: condition type → status → taint key. */
const CONDITION_TAINTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  Ready: { False: TAINT_NODE_NOT_READY, Unknown: TAINT_NODE_UNREACHABLE },
  MemoryPressure: { True: TAINT_NODE_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_NODE_DISK_PRESSURE },
  NetworkUnavailable: { True: TAINT_NODE_NETWORK_UNAVAILABLE },
  PIDPressure: { True: TAINT_NODE_PID_PRESSURE },
};
const CONDITION_TAINT_KEYS: ReadonlySet<string> = new Set(
  Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)),
);

/** The conditions that go Unknown with a stale heartbeat (NetworkUnavailable is the control plane's). */
const UNKNOWN_ON_STALE = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] as const;

/** What the controller last saw of a node (upstream nodeHealthData); times on the controller's clock. */
export interface NodeHealth {
  /** When the heartbeat (Ready heartbeat or Lease renewTime) was last seen to move. */
  probeTimestamp: number;
  readyTransitionTimestamp: number;
  /** The Ready condition as last seen. */
  readyCondition?: NodeCondition;
  /** spec.renewTime of the Lease as last seen. */
  leaseRenewTime?: string;
}

export function getNodeCondition(status: NodeStatus | undefined, type: string): NodeCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

function timeOf(s: string | undefined): number {
  const t = s ? Date.parse(s) : Number.NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** A Lease's renewTime, as a number that orders MicroTimes (µs; Date.parse would drop them). */
export function renewTimeOrder(s: string | undefined): number {
  if (!s) return Number.NEGATIVE_INFINITY;
  const m = /\.(\d+)/.exec(s);
  const micros = m?.[1] ? Number(m[1].padEnd(6, "0").slice(0, 6)) % 1000 : 0;
  return timeOf(s) * 1000 + micros;
}

/**
 * observedReadyCondition: the node's Ready condition, or, for a node whose kubelet never posted
 * status, an Unknown one dated at its creation (with the longer startup grace period).
 */
export function observedReadyCondition(
  node: Node,
  o: { gracePeriodMs: number; startupGracePeriodMs: number },
): { condition: NodeCondition; present: boolean; gracePeriodMs: number } {
  const ready = getNodeCondition(node.status, NODE_READY);
  if (ready) return { condition: { ...ready }, present: true, gracePeriodMs: o.gracePeriodMs };
  const created = node.metadata.creationTimestamp;
  return {
    condition: {
      type: NODE_READY,
      status: "Unknown",
      ...(created ? { lastHeartbeatTime: created, lastTransitionTime: created } : {}),
    },
    present: false,
    gracePeriodMs: o.startupGracePeriodMs,
  };
}

/**
 * nextNodeHealth (the bookkeeping half of upstream tryUpdateNodeHealth): the probe timestamp
 * moves to `now` when the Ready condition's heartbeat changed since `saved`, or the Lease was
 * renewed since; a node seen for the first time starts its grace period now (or at its creation
 * when it has no Ready condition yet).
 */
export function nextNodeHealth(
  saved: NodeHealth | undefined,
  node: Node,
  lease: Lease | undefined,
  now: number,
): NodeHealth {
  const current = getNodeCondition(node.status, NODE_READY);
  let health: NodeHealth;
  if (!current) {
    const created = timeOf(node.metadata.creationTimestamp);
    health = saved ? { ...saved } : { probeTimestamp: created || now, readyTransitionTimestamp: created || now };
    delete health.readyCondition;
  } else if (!saved?.readyCondition) {
    // First sight of a Ready condition (a restarted controller, or a kubelet's first status).
    health = { probeTimestamp: now, readyTransitionTimestamp: now, readyCondition: { ...current } };
    if (saved?.leaseRenewTime) health.leaseRenewTime = saved.leaseRenewTime;
  } else if (saved.readyCondition.lastHeartbeatTime !== current.lastHeartbeatTime) {
    const transitioned = saved.readyCondition.lastTransitionTime !== current.lastTransitionTime;
    health = {
      ...saved,
      probeTimestamp: now,
      readyTransitionTimestamp: transitioned ? now : saved.readyTransitionTimestamp,
      readyCondition: { ...current },
    };
  } else {
    health = { ...saved };
  }
  // A renewed Lease is a heartbeat too (the kubelet renews it more often than it posts status).
  const renew = lease?.spec?.renewTime;
  if (renew && renewTimeOrder(health.leaseRenewTime) < renewTimeOrder(renew)) {
    health.leaseRenewTime = renew;
    health.probeTimestamp = now;
  }
  return health;
}

/** Whether the heartbeat is older than the grace period. */
export function heartbeatStale(health: NodeHealth, gracePeriodMs: number, now: number): boolean {
  return now > health.probeTimestamp + gracePeriodMs;
}

/**
 * markConditionsUnknown: a copy of the node whose Ready, MemoryPressure, DiskPressure and
 * PIDPressure conditions are Unknown ("Kubelet stopped posting node status.", or "never posted"
 * for ones it never set), as upstream writes them for a node whose heartbeat is stale.
 */
export function markConditionsUnknown(node: Node, now: number): Node {
  const out = structuredClone(node);
  out.status ??= {};
  out.status.conditions ??= [];
  const conditions = out.status.conditions;
  const ts = metaTime(now);
  for (const type of UNKNOWN_ON_STALE) {
    const c = conditions.find((x) => x.type === type);
    if (!c) {
      const created = node.metadata.creationTimestamp;
      conditions.push({
        type,
        status: "Unknown",
        reason: "NodeStatusNeverUpdated",
        message: "Kubelet never posted node status.",
        ...(created ? { lastHeartbeatTime: created } : {}),
        lastTransitionTime: ts,
      });
    } else if (c.status !== "Unknown") {
      c.status = "Unknown";
      c.reason = "NodeStatusUnknown";
      c.message = "Kubelet stopped posting node status.";
      c.lastTransitionTime = ts;
    }
  }
  return out;
}

export function sameCondition(a: NodeCondition | undefined, b: NodeCondition | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.type === b.type &&
    a.status === b.status &&
    (a.reason ?? "") === (b.reason ?? "") &&
    (a.message ?? "") === (b.message ?? "") &&
    (a.lastHeartbeatTime ?? "") === (b.lastHeartbeatTime ?? "") &&
    (a.lastTransitionTime ?? "") === (b.lastTransitionTime ?? "")
  );
}

/**
 * noScheduleTaintsDiff (upstream doNoScheduleTaintingPass, TaintNodesByCondition): the
 * NoSchedule taints the node's conditions and spec.unschedulable call for, against the
 * condition taints it has (other taints are not ours to touch).
 */
export function noScheduleTaintsDiff(node: Node): { add: Taint[]; remove: Taint[] } {
  const want: Taint[] = [];
  for (const c of node.status?.conditions ?? []) {
    const key = CONDITION_TAINTS[c.type]?.[c.status];
    if (key) want.push({ key, effect: "NoSchedule" });
  }
  if (node.spec?.unschedulable) want.push({ key: TAINT_NODE_UNSCHEDULABLE, effect: "NoSchedule" });
  const have = (node.spec?.taints ?? []).filter(
    (t) => t.effect === "NoSchedule" && (t.key === TAINT_NODE_UNSCHEDULABLE || CONDITION_TAINT_KEYS.has(t.key)),
  );
  return {
    add: want.filter((t) => !taintExists(have, t)),
    remove: have.filter((t) => !taintExists(want, t)).map((t) => ({ key: t.key, effect: t.effect })),
  };
}

/**
 * noExecuteTaintFor: the NoExecute taint a Ready status calls for and its opposite, which is
 * removed in the same write (upstream keeps not-ready and unreachable mutually exclusive, as
 * Ready's False and Unknown are); undefined when Ready=True.
 */
export function noExecuteTaintFor(readyStatus: string): { add: Taint; remove: Taint } | undefined {
  if (readyStatus === "False") return { add: NOT_READY_TAINT, remove: UNREACHABLE_TAINT };
  if (readyStatus === "Unknown") return { add: UNREACHABLE_TAINT, remove: NOT_READY_TAINT };
  return undefined;
}

export type ZoneState = "Initial" | "Normal" | "FullDisruption" | "PartialDisruption";

/**
 * computeZoneState (upstream ComputeZoneState): FullDisruption when no node of the zone is
 * Ready, PartialDisruption when more than 2 and at least unhealthyZoneThreshold of them are not,
 * else Normal; with the number not Ready.
 */
export function computeZoneState(
  readyConditions: readonly (NodeCondition | undefined)[],
  unhealthyZoneThreshold: number,
): { unhealthy: number; state: ZoneState } {
  let ready = 0;
  let notReady = 0;
  for (const c of readyConditions) {
    if (c?.status === "True") ready++;
    else notReady++;
  }
  if (ready === 0 && notReady > 0) return { unhealthy: notReady, state: "FullDisruption" };
  if (notReady > 2 && notReady / (notReady + ready) >= unhealthyZoneThreshold)
    return { unhealthy: notReady, state: "PartialDisruption" };
  return { unhealthy: notReady, state: "Normal" };
}

const ZONE_LABELS = ["topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"];
const REGION_LABELS = ["topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region"];

/** zoneKey (component-helpers GetZoneKey): "" without topology labels, else "<region>:\0:<zone>". */
export function zoneKey(node: Node): string {
  const labels = node.metadata.labels ?? {};
  const pick = (keys: string[]) => keys.map((k) => labels[k]).find((v) => v) ?? "";
  const region = pick(REGION_LABELS);
  const zone = pick(ZONE_LABELS);
  if (!region && !zone) return "";
  return `${region}:\x00:${zone}`;
}

/** labelNodeDisruptionExclusion: such nodes do not count towards their zone's disruption. */
export const LABEL_NODE_DISRUPTION_EXCLUSION = "node.kubernetes.io/exclude-disruption";

export function excludedFromDisruptionChecks(node: Node): boolean {
  return LABEL_NODE_DISRUPTION_EXCLUSION in (node.metadata.labels ?? {});
}
