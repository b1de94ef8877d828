// describe node, after kubectl's describeNode: conditions, addresses, capacity/allocatable,
// system info, the node's non-terminated pods and the "Allocated resources" summary.

import { formatQuantity, type ParsedQuantity, parseQuantityExact } from "#pkg/api/quantity.js";
import type { Lease, Node, Pod } from "#pkg/api/types/index.js";
import { rfc1123z, since } from "../format.js";
import { annotationsMultiline, labelsMultiline, type PrefixWriter } from "./writer.js";

function rolesOf(node: Node): string {
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((k) => k.startsWith("node-role.kubernetes.io/"))
    .map((k) => k.slice("node-role.kubernetes.io/".length))
    .filter((r) => r !== "");
  const kr = node.metadata.labels?.["kubernetes.io/role"];
  if (kr) roles.push(kr);
  return roles.length > 0 ? roles.sort().join(",") : "<none>";
}

/** A sum of quantities that keeps the format of the first one (upstream Quantity.Add). */
class QuantitySum {
  nanos = 0n;
  format: ParsedQuantity["format"] | undefined;

  add(q: string | number | undefined): void {
    if (q === undefined) return;
    try {
      const p = parseQuantityExact(q);
      this.nanos += p.nanos;
      this.format ??= p.format;
    } catch {
      // an unparsable quantity is ignored in the summary, as the server would have refused it
    }
  }

  toString(): string {
    return formatQuantity(this.nanos, this.format ?? "DecimalSI");
  }
}

function percent(sum: QuantitySum, allocatable: string | number | undefined): number {
  if (allocatable === undefined) return 0;
  let alloc: bigint;
  try {
    alloc = parseQuantityExact(allocatable).nanos;
  } catch {
    return 0;
  }
  if (alloc === 0n) return 0;
  return Number((sum.nanos * 100n) / alloc);
}

interface PodTotals {
  requests: Record<string, QuantitySum>;
  limits: Record<string, QuantitySum>;
}

/** Pod requests/limits as the scheduler counts them: max(sum of containers, any init container). */
export function podRequestsAndLimits(pod: Pod): PodTotals {
  const totals: PodTotals = { requests: {}, limits: {} };
  const add = (into: Record<string, QuantitySum>, list: Record<string, unknown> | undefined) => {
    for (const [k, v] of Object.entries(list ?? {})) {
      into[k] ??= new QuantitySum();
      into[k].add(v as string | number);
    }
  };
  for (const c of pod.spec?.containers ?? []) {
    add(totals.requests, c.resources?.requests as Record<string, unknown> | undefined);
    add(totals.limits, c.resources?.limits as Record<string, unknown> | undefined);
  }
  for (const c of pod.spec?.initContainers ?? []) {
    for (const [which, list] of [
      ["requests", c.resources?.requests],
      ["limits", c.resources?.limits],
    ] as const) {
      for (const [k, v] of Object.entries((list ?? {}) as Record<string, unknown>)) {
        const single = new QuantitySum();
        single.add(v as string | number);
        const into = totals[which];
        if (!into[k] || into[k].nanos < single.nanos) into[k] = single;
      }
    }
  }
  return totals;
}

function cell(sum: QuantitySum | undefined, alloc: string | number | undefined): string {
  const s = sum ?? new QuantitySum();
  return `${s.toString()} (${percent(s, alloc)}%)`;
}

export function describeNode(
  w: PrefixWriter,
  node: Node,
  pods: Pod[] | undefined,
  lease: Lease | string | undefined,
  now = Date.now(),
): void {
  const m = node.metadata;
  const st = node.status;
  w.write(0, `Name:\t${m.name ?? ""}\n`);
  w.write(0, `Roles:\t${rolesOf(node)}\n`);
  labelsMultiline(w, 0, "Labels", m.labels);
  annotationsMultiline(w, 0, "Annotations", m.annotations);
  w.write(0, `CreationTimestamp:\t${rfc1123z(m.creationTimestamp)}\n`);
  const taints = node.spec?.taints ?? [];
  if (taints.length === 0) w.write(0, "Taints:\t<none>\n");
  else
    taints.forEach((t, i) => {
      w.write(0, `${i === 0 ? "Taints:" : ""}\t${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}\n`);
    });
  w.write(0, `Unschedulable:\t${Boolean(node.spec?.unschedulable)}\n`);
  if (typeof lease === "string") w.write(0, `Lease:\tFailed to get lease: ${lease}\n`);
  else if (lease) {
    w.write(0, "Lease:\n");
    w.write(1, `HolderIdentity:\t${lease.spec?.holderIdentity ?? "<unset>"}\n`);
    w.write(1, `AcquireTime:\t${lease.spec?.acquireTime ? rfc1123z(lease.spec.acquireTime) : "<unset>"}\n`);
    w.write(1, `RenewTime:\t${lease.spec?.renewTime ? rfc1123z(lease.spec.renewTime) : "<unset>"}\n`);
  }
  const conditions = st?.conditions ?? [];
  if (conditions.length > 0) {
    w.write(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n");
    w.write(1, "----\t------\t-----------------\t------------------\t------\t-------\n");
    for (const c of conditions) {
      w.write(
        1,
        `${c.type} \t${c.status} \t${rfc1123z(c.lastHeartbeatTime)} \t${rfc1123z(c.lastTransitionTime)} \t${c.reason ?? ""} \t${c.message ?? ""}\n`,
      );
    }
  }
  w.write(0, "Addresses:\n");
  for (const a of st?.addresses ?? []) w.write(1, `${a.type}:\t${a.address}\n`);
  const resList = (title: string, list: Record<string, unknown> | undefined) => {
    const keys = Object.keys(list ?? {}).sort();
    if (keys.length === 0) return;
    w.write(0, `${title}:\n`);
    for (const k of keys) w.write(1, `${k}:\t${String(list?.[k])}\n`);
  };
  resList("Capacity", st?.capacity as Record<string, unknown> | undefined);
  resList("Allocatable", st?.allocatable as Record<string, unknown> | undefined);
  const info = st?.nodeInfo;
  w.write(0, "System Info:\n");
  w.write(1, `Machine ID:\t${info?.machineID ?? ""}\n`);
  w.write(1, `System UUID:\t${info?.systemUUID ?? ""}\n`);
  w.write(1, `Boot ID:\t${info?.bootID ?? ""}\n`);
  w.write(1, `Kernel Version:\t${info?.kernelVersion ?? ""}\n`);
  w.write(1, `OS Image:\t${info?.osImage ?? ""}\n`);
  w.write(1, `Operating System:\t${info?.operatingSystem ?? ""}\n`);
  w.write(1, `Architecture:\t${info?.architecture ?? ""}\n`);
  w.write(1, `Container Runtime Version:\t${info?.containerRuntimeVersion ?? ""}\n`);
  w.write(1, `Kubelet Version:\t${info?.kubeletVersion ?? ""}\n`);
  w.write(1, `Kube-Proxy Version:\t${info?.kubeProxyVersion ?? ""}\n`);
  if (node.spec?.podCIDR) w.write(0, `PodCIDR:\t${node.spec.podCIDR}\n`);
  if (node.spec?.podCIDRs?.length) w.write(0, `PodCIDRs:\t${node.spec.podCIDRs.join(",")}\n`);
  if (node.spec?.providerID) w.write(0, `ProviderID:\t${node.spec.providerID}\n`);
  if (pods) describeNodeResources(w, pods, node, now);
}

function describeNodeResources(w: PrefixWriter, pods: Pod[], node: Node, now: number): void {
  const alloc = (node.status?.allocatable ?? {}) as Record<string, string | number | undefined>;
  w.write(0, `Non-terminated Pods:\t(${pods.length} in total)\n`);
  w.write(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n");
  w.write(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n");
  const total: PodTotals = { requests: {}, limits: {} };
  for (const pod of pods) {
    const t = podRequestsAndLimits(pod);
    w.write(
      1,
      `${pod.metadata.namespace ?? ""}\t${pod.metadata.name ?? ""}\t\t${cell(t.requests.cpu, alloc.cpu)}\t${cell(t.limits.cpu, alloc.cpu)}\t${cell(t.requests.memory, alloc.memory)}\t${cell(t.limits.memory, alloc.memory)}\t${since(pod.metadata.creationTimestamp, now)}\n`,
    );
    for (const which of ["requests", "limits"] as const) {
      for (const [k, v] of Object.entries(t[which])) {
        total[which][k] ??= new QuantitySum();
        const into = total[which][k];
        into.nanos += v.nanos;
        into.format ??= v.format;
      }
    }
  }
  w.write(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n");
  w.write(1, "Resource\tRequests\tLimits\n");
  w.write(1, "--------\t--------\t------\n");
  for (const res of ["cpu", "memory", "ephemeral-storage"]) {
    w.write(1, `${res}\t${cell(total.requests[res], alloc[res])}\t${cell(total.limits[res], alloc[res])}\n`);
  }
}
