// Pod resource requests as the scheduler counts them (upstream
// pkg/api/v1/resource.PodRequests): the sum of app containers, at least the largest init
// container (sidecar init containers, restartPolicy Always, run alongside and add up), plus
// overhead. cpu is kept in millicores, everything else in base units (bytes, counts).

import { bytes, cpuMillis } from "#pkg/api/quantity.js";
import type { Container, Pod } from "#pkg/api/types/index.js";

/** ResourceList: resource name -> amount (cpu in millicores). */
export type ResourceList = Record<string, number>;

/** Upstream DefaultMilliCPURequest / DefaultMemoryRequest: what a request-less container counts as for scoring. */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** quantityValue converts a quantity of the named resource to the scheduler's unit. */
export function quantityValue(name: string, q: string | number): number {
  return name === "cpu" ? cpuMillis(q) : bytes(q);
}

/** resourceList parses a map of quantities (node allocatable, container requests). */
export function resourceList(m: Record<string, string | number> | undefined): ResourceList {
  const out: ResourceList = {};
  for (const [k, v] of Object.entries(m ?? {})) out[k] = quantityValue(k, v);
  return out;
}

function add(into: ResourceList, r: ResourceList): void {
  for (const [k, v] of Object.entries(r)) into[k] = (into[k] ?? 0) + v;
}

function maxInto(into: ResourceList, r: ResourceList): void {
  for (const [k, v] of Object.entries(r)) if (v > (into[k] ?? 0)) into[k] = v;
}

function containerRequests(c: Container, nonZero: boolean): ResourceList {
  const r = resourceList(c.resources?.requests as Record<string, string | number> | undefined);
  if (nonZero) {
    if (!r.cpu) r.cpu = DEFAULT_MILLI_CPU_REQUEST;
    if (!r.memory) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * podRequests computes what the pod asks for. With nonZero, containers without a cpu or
 * memory request count the defaults (upstream's NonZeroRequested, used only for scoring, so a
 * node full of BestEffort pods does not look empty).
 */
export function podRequests(pod: Pod, o: { nonZero?: boolean } = {}): ResourceList {
  const nonZero = o.nonZero ?? false;
  const reqs: ResourceList = {};
  for (const c of pod.spec?.containers ?? []) add(reqs, containerRequests(c, nonZero));
  const restartable: ResourceList = {};
  const initMax: ResourceList = {};
  for (const c of pod.spec?.initContainers ?? []) {
    const r = containerRequests(c, nonZero);
    if (c.restartPolicy === "Always") {
      // A sidecar keeps running: it adds to the steady state and to every later init container.
      add(reqs, r);
      add(restartable, r);
      maxInto(initMax, { ...restartable });
    } else {
      const withSidecars = { ...r };
      add(withSidecars, restartable);
      maxInto(initMax, withSidecars);
    }
  }
  maxInto(reqs, initMax);
  const overhead = (pod.spec as { overhead?: Record<string, string | number> } | undefined)?.overhead;
  if (overhead) add(reqs, resourceList(overhead));
  return reqs;
}

export function addResources(into: ResourceList, r: ResourceList, sign = 1): void {
  for (const [k, v] of Object.entries(r)) into[k] = (into[k] ?? 0) + sign * v;
}
