// The LimitRanger admission plugin (upstream plugin/pkg/admission/limitranger): a new pod's
// containers get the namespace's LimitRange defaults for the requests and limits they leave out
// (noted in the kubernetes.io/limit-ranger annotation), then every container (type Container)
// and the pod as a whole (type Pod) must lie within the ranges' min, max and
// maxLimitRequestRatio, in upstream's words.

import { formatQuantity, isValidQuantity, type ParsedQuantity, parseQuantityExact } from "#pkg/api/quantity.js";
import { LIMITRANGES } from "#pkg/api/resources.js";
import type { Container, LimitRange, LimitRangeItem, Pod } from "#pkg/api/types/core.js";
import { podResources } from "#pkg/quota/evaluators.js";
import type { ResourceList } from "#pkg/quota/resources.js";
import type { Attributes, Operation } from "../attributes.js";
import type { AdmissionPlugin } from "../chain.js";
import type { AdmissionContext } from "../context.js";
import { admissionForbidden } from "../errors.js";
import { createdPod } from "../plugins/pod-defaults.js";

export const LIMIT_RANGER = "LimitRanger";
export const LIMIT_RANGER_ANNOTATION = "kubernetes.io/limit-ranger";

type Quantities = Record<string, string | number>;

function toList(m: Quantities | undefined): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, v] of Object.entries(m ?? {})) if (isValidQuantity(v)) out.set(k, parseQuantityExact(v));
  return out;
}

/** The Container defaults of a LimitRange (upstream defaultContainerResourceRequirements). */
function containerDefaults(lr: LimitRange): { requests: Quantities; limits: Quantities } {
  const requests: Quantities = {};
  const limits: Quantities = {};
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== "Container") continue;
    Object.assign(requests, item.defaultRequest ?? {});
    Object.assign(limits, item.default ?? {});
  }
  return { requests, limits };
}

/** upstream mergePodResourceRequirements: fills what containers leave out, annotating what it set. */
export function applyLimitRangeDefaults(pod: Pod, lr: LimitRange): void {
  const defaults = containerDefaults(lr);
  const notes: string[] = [];
  const merge = (containers: Container[], what: string) => {
    for (const c of containers ?? []) {
      c.resources ??= {};
      const res = c.resources;
      const setReq: string[] = [];
      const setLim: string[] = [];
      for (const [k, v] of Object.entries(defaults.limits)) {
        res.limits ??= {};
        if (!(k in res.limits)) {
          res.limits[k] = v;
          setLim.push(k);
        }
      }
      for (const [k, v] of Object.entries(defaults.requests)) {
        res.requests ??= {};
        if (!(k in res.requests)) {
          res.requests[k] = v;
          setReq.push(k);
        }
      }
      if (res.limits && Object.keys(res.limits).length === 0) delete res.limits;
      if (res.requests && Object.keys(res.requests).length === 0) delete res.requests;
      if (setReq.length > 0) notes.push(`${setReq.sort().join(", ")} request for ${what} ${c.name}`);
      if (setLim.length > 0) notes.push(`${setLim.sort().join(", ")} limit for ${what} ${c.name}`);
    }
  };
  if (!pod.spec) return;
  merge(pod.spec.containers, "container");
  merge(pod.spec.initContainers ?? [], "init container");
  if (notes.length > 0) {
    pod.metadata.annotations ??= {};
    pod.metadata.annotations[LIMIT_RANGER_ANNOTATION] = `LimitRanger plugin set: ${notes.join("; ")}`;
  }
}

const str = (q: ParsedQuantity) => formatQuantity(q);

/** upstream minConstraint. */
function minConstraint(
  type: string,
  name: string,
  enforced: ParsedQuantity,
  req: ResourceList,
  lim: ResourceList,
): string | undefined {
  const r = req.get(name);
  const l = lim.get(name);
  if (!r) return `minimum ${name} usage per ${type} is ${str(enforced)}.  No request is specified`;
  if (r.nanos < enforced.nanos)
    return `minimum ${name} usage per ${type} is ${str(enforced)}, but request is ${str(r)}`;
  if (l && l.nanos < enforced.nanos)
    return `minimum ${name} usage per ${type} is ${str(enforced)}, but limit is ${str(l)}`;
  return undefined;
}

/** upstream maxConstraint. */
function maxConstraint(
  type: string,
  name: string,
  enforced: ParsedQuantity,
  req: ResourceList,
  lim: ResourceList,
): string | undefined {
  const r = req.get(name);
  const l = lim.get(name);
  if (!l) return `maximum ${name} usage per ${type} is ${str(enforced)}.  No limit is specified`;
  if (l.nanos > enforced.nanos) return `maximum ${name} usage per ${type} is ${str(enforced)}, but limit is ${str(l)}`;
  if (r && r.nanos > enforced.nanos)
    return `maximum ${name} usage per ${type} is ${str(enforced)}, but request is ${str(r)}`;
  return undefined;
}

/** upstream limitRequestRatioConstraint (the ratio printed with Go's %f). */
function ratioConstraint(
  type: string,
  name: string,
  enforced: ParsedQuantity,
  req: ResourceList,
  lim: ResourceList,
): string | undefined {
  const r = req.get(name);
  const l = lim.get(name);
  if (!r || r.nanos === 0n)
    return `${name} max limit to request ratio per ${type} is ${str(enforced)}, but no request is specified or request is 0`;
  if (!l || l.nanos === 0n)
    return `${name} max limit to request ratio per ${type} is ${str(enforced)}, but no limit is specified or limit is 0`;
  const ratio = Number(l.nanos) / Number(r.nanos);
  if (ratio > Number(enforced.nanos) / 1e9)
    return `${name} max limit to request ratio per ${type} is ${str(enforced)}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
}

function checkItem(item: LimitRangeItem, type: string, req: ResourceList, lim: ResourceList): string[] {
  const errs: string[] = [];
  for (const [k, v] of toList(item.min)) {
    const e = minConstraint(type, k, v, req, lim);
    if (e) errs.push(e);
  }
  for (const [k, v] of toList(item.max)) {
    const e = maxConstraint(type, k, v, req, lim);
    if (e) errs.push(e);
  }
  for (const [k, v] of toList(item.maxLimitRequestRatio)) {
    const e = ratioConstraint(type, k, v, req, lim);
    if (e) errs.push(e);
  }
  return errs;
}

/** upstream PodValidateLimitFunc: the violations of pod against lr. */
export function validatePodAgainst(pod: Pod, lr: LimitRange): string[] {
  const errs: string[] = [];
  for (const item of lr.spec?.limits ?? []) {
    if (item.type === "Container") {
      for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
        errs.push(...checkItem(item, "Container", toList(c.resources?.requests), toList(c.resources?.limits)));
      }
    } else if (item.type === "Pod") {
      errs.push(...checkItem(item, "Pod", podResources(pod, "requests"), podResources(pod, "limits")));
    }
  }
  return errs;
}

/** utilerrors.NewAggregate(errs).Error(): one as is, several in brackets. */
const aggregate = (errs: readonly string[]) => (errs.length === 1 ? (errs[0] ?? "") : `[${errs.join(", ")}]`);

export function newLimitRanger(ctx: AdmissionContext): AdmissionPlugin {
  const rangesFor = async (a: Attributes) => (await ctx.current(LIMITRANGES, a.namespace)) as LimitRange[];
  return {
    name: LIMIT_RANGER,
    handles: (op: Operation) => op === "CREATE" || op === "UPDATE",
    async admit(a) {
      const pod = createdPod(a);
      if (!pod) return;
      for (const lr of await rangesFor(a)) applyLimitRangeDefaults(pod, lr);
    },
    async validate(a) {
      const pod = createdPod(a);
      if (!pod) return;
      for (const lr of await rangesFor(a)) {
        const errs = validatePodAgainst(pod, lr);
        if (errs.length > 0) throw admissionForbidden(a, aggregate(errs));
      }
    },
  };
}
