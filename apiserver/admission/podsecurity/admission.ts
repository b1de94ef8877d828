// The PodSecurity admission plugin (upstream plugin/pkg/admission/security/podsecurity and
// pod-security-admission/admission/admission.go): a namespace's pod-security.kubernetes.io
// labels choose its policy; a pod that breaks the enforce level is refused, one that breaks the
// warn level gets a `would violate PodSecurity` warning and one that breaks the audit level an
// audit annotation. Workload kinds with a pod template (Deployments, Jobs, ...) are only warned
// and audited: their pods are refused when the controller creates them. Labels that do not parse
// are refused on namespaces; raising a namespace's enforce level warns about its existing pods
// that would not be admitted.

import { type FieldError, StatusError } from "#pkg/api/errors.js";
import type { KubeObject, ObjectMeta } from "#pkg/api/meta.js";
import { PODS } from "#pkg/api/resources.js";
import type { Container, Pod, PodSpec, PodTemplateSpec } from "#pkg/api/types/core.js";
import type { Attributes, Operation } from "../attributes.js";
import type { AdmissionPlugin } from "../chain.js";
import type { AdmissionContext } from "../context.js";
import { forbiddenResource } from "../errors.js";
import {
  compareLevels,
  DEFAULT_POLICY,
  type LevelVersion,
  levelVersionString,
  type Policy,
  policyToEvaluate,
  sameLevelVersion,
} from "./api.js";
import { type AggregateResult, evaluate, forbiddenDetail, forbiddenReason } from "./evaluator.js";

export const POD_SECURITY = "PodSecurity";

/** Audit annotation keys (upstream api.AuditAnnotationPrefix + "enforce-policy", ...). */
export const ENFORCE_POLICY_ANNOTATION = "pod-security.kubernetes.io/enforce-policy";
export const AUDIT_VIOLATIONS_ANNOTATION = "pod-security.kubernetes.io/audit-violations";
export const ERROR_ANNOTATION = "pod-security.kubernetes.io/error";

/** upstream defaultNamespaceMaxPodsToCheck. */
const NAMESPACE_MAX_PODS_TO_CHECK = 3000;

/** Pod subresources that cannot change a pod's spec (upstream ignoredPodSubresources). */
const IGNORED_POD_SUBRESOURCES = new Set([
  "exec",
  "attach",
  "binding",
  "eviction",
  "log",
  "portforward",
  "proxy",
  "status",
]);

type TemplateOf = (obj: KubeObject) => PodTemplateSpec | undefined;
const specTemplate: TemplateOf = (o) => (o.spec as { template?: PodTemplateSpec } | undefined)?.template;

/** The kinds that embed a pod template, and where (upstream DefaultPodSpecExtractor). */
const POD_TEMPLATE_RESOURCES: Record<string, TemplateOf> = {
  "/replicationcontrollers": specTemplate,
  "/podtemplates": (o) => (o as { template?: PodTemplateSpec }).template,
  "apps/replicasets": specTemplate,
  "apps/deployments": specTemplate,
  "apps/statefulsets": specTemplate,
  "apps/daemonsets": specTemplate,
  "batch/jobs": specTemplate,
  "batch/cronjobs": (o) =>
    (o.spec as { jobTemplate?: { spec?: { template?: PodTemplateSpec } } } | undefined)?.jobTemplate?.spec?.template,
};

/** ErrorList.ToAggregate().Error(): one error as is, several in brackets. */
function aggregateFieldErrors(errs: readonly FieldError[]): string {
  const list = errs.map((e) => `${e.field}: ${e.message}`);
  return list.length === 1 ? (list[0] ?? "") : `[${list.join(", ")}]`;
}

/** What a pod update may change that the checks look at (upstream isSignificantPodUpdate). */
export function isSignificantPodUpdate(pod: Pod, old: Pod): boolean {
  const ann = pod.metadata.annotations ?? {};
  const oldAnn = old.metadata.annotations ?? {};
  const podKey = "seccomp.security.alpha.kubernetes.io/pod";
  if (ann[podKey] !== oldAnn[podKey]) return true;
  const changed = (c: Container, o: Container) => {
    if (c.image !== o.image) return true;
    const key = `container.seccomp.security.alpha.kubernetes.io/${c.name}`;
    return ann[key] !== oldAnn[key];
  };
  const pairs = (a: Container[] | undefined, b: Container[] | undefined) => {
    const x = a ?? [];
    const y = b ?? [];
    if (x.length !== y.length) return true;
    return x.some((c, i) => changed(c, y[i] as Container));
  };
  if (pairs(pod.spec?.containers, old.spec?.containers)) return true;
  if (pairs(pod.spec?.initContainers, old.spec?.initContainers)) return true;
  const eph = (p: Pod) =>
    Array.isArray(p.spec?.ephemeralContainers) ? (p.spec.ephemeralContainers as Container[]) : [];
  const oldEph = eph(old);
  for (const c of eph(pod)) {
    const o = oldEph.find((x) => x.name === c.name);
    if (!o || changed(c, o)) return true;
  }
  return false;
}

export interface PodSecurityOptions {
  /** The policy of namespaces without labels (upstream PodSecurityConfiguration defaults). */
  defaults?: Policy;
}

export function newPodSecurity(ctx: AdmissionContext, o: PodSecurityOptions = {}): AdmissionPlugin {
  const defaults = o.defaults ?? DEFAULT_POLICY;

  const namespacePolicy = async (a: Attributes) => {
    const ns = await ctx.getNamespace(a.namespace);
    if (!ns) throw new StatusError(500, "InternalError", `failed to lookup namespace ${a.namespace}`);
    return policyToEvaluate(ns.metadata.labels, defaults);
  };

  /** upstream EvaluatePod; enforce only for pods. */
  const evaluatePod = (
    a: Attributes,
    policy: Policy,
    policyErrors: FieldError[],
    meta: ObjectMeta | undefined,
    spec: PodSpec,
    enforce: boolean,
  ): void => {
    if (policyErrors.length > 0)
      a.addAnnotation(ERROR_ANNOTATION, `Failed to parse policy: ${aggregateFieldErrors(policyErrors)}`);
    const cached: Array<[LevelVersion, AggregateResult]> = [];
    const resultFor = (lv: LevelVersion) => {
      const hit = cached.find(([k]) => sameLevelVersion(k, lv));
      if (hit) return hit[1];
      const r = evaluate(lv, meta, spec);
      cached.push([lv, r]);
      return r;
    };
    let denied: StatusError | undefined;
    if (enforce) {
      a.addAnnotation(ENFORCE_POLICY_ANNOTATION, levelVersionString(policy.enforce));
      const r = resultFor(policy.enforce);
      if (!r.allowed) {
        // A generated name is not known yet when upstream evaluates: it names the generateName.
        const name = a.name || a.object?.metadata.generateName || "";
        denied = forbiddenResource(
          a.resource,
          name,
          `violates PodSecurity ${JSON.stringify(levelVersionString(policy.enforce))}: ${forbiddenDetail(r)}`,
        );
      }
    }
    const audit = resultFor(policy.audit);
    if (!audit.allowed) {
      a.addAnnotation(
        AUDIT_VIOLATIONS_ANNOTATION,
        `would violate PodSecurity ${JSON.stringify(levelVersionString(policy.audit))}: ${forbiddenDetail(audit)}`,
      );
    }
    if (denied) throw denied;
    // No warnings on a request that is refused anyway.
    const warn = resultFor(policy.warn);
    if (!warn.allowed) {
      a.addWarning(
        `would violate PodSecurity ${JSON.stringify(levelVersionString(policy.warn))}: ${forbiddenDetail(warn)}`,
      );
    }
  };

  /** upstream EvaluatePodsInNamespace: warnings about the pods a new enforce level would refuse. */
  const evaluatePodsInNamespace = (namespace: string, enforce: LevelVersion): string[] => {
    const all = ctx.cached(PODS, namespace) as Pod[];
    const pods = all.slice(0, NAMESPACE_MAX_PODS_TO_CHECK);
    const byWarning = new Map<string, { podName: string; podCount: number }>();
    for (const pod of pods) {
      if (!pod.spec) continue;
      const r = evaluate(enforce, pod.metadata, pod.spec);
      if (r.allowed) continue;
      const warning = forbiddenReason(r);
      const name = pod.metadata.name ?? "";
      const c = byWarning.get(warning);
      if (!c) byWarning.set(warning, { podName: name, podCount: 1 });
      else {
        if (name < c.podName) c.podName = name;
        c.podCount++;
      }
    }
    const warnings: string[] = [];
    if (pods.length < all.length)
      warnings.push(
        `new PodSecurity enforce level only checked against the first ${pods.length} of ${all.length} existing pods`,
      );
    if (byWarning.size > 0)
      warnings.push(
        `existing pods in namespace ${JSON.stringify(namespace)} violate the new PodSecurity enforce level ${JSON.stringify(levelVersionString(enforce))}`,
      );
    const podWarnings = [...byWarning].map(([warning, c]) => {
      if (c.podCount === 1) return `${c.podName}: ${warning}`;
      if (c.podCount === 2) return `${c.podName} (and 1 other pod): ${warning}`;
      return `${c.podName} (and ${c.podCount - 1} other pods): ${warning}`;
    });
    podWarnings.sort();
    return [...warnings, ...podWarnings];
  };

  const validateNamespace = (a: Attributes): void => {
    if (a.subresource !== "" || !a.object) return;
    const next = policyToEvaluate(a.object.metadata.labels, defaults);
    const invalid = () =>
      new StatusError(422, "Invalid", aggregateFieldErrors(next.errors), {
        name: a.name,
        group: "",
        kind: "namespaces",
      });
    if (a.operation === "CREATE") {
      if (next.errors.length > 0) throw invalid();
      return;
    }
    if (!a.oldObject) return;
    const prev = policyToEvaluate(a.oldObject.metadata.labels, defaults);
    if (
      next.errors.length > 0 &&
      (prev.errors.length === 0 || aggregateFieldErrors(next.errors) !== aggregateFieldErrors(prev.errors))
    )
      throw invalid();
    const ne = next.policy.enforce;
    const oe = prev.policy.enforce;
    // Nothing to dry-run: enforce unchanged, privileged, or relaxed at the same version.
    if (sameLevelVersion(ne, oe) || ne.level === "privileged") return;
    if (
      ne.version.latest === oe.version.latest &&
      ne.version.minor === oe.version.minor &&
      compareLevels(ne.level, oe.level) < 1
    )
      return;
    for (const w of evaluatePodsInNamespace(a.object.metadata.name ?? a.name, ne)) a.addWarning(w);
  };

  const validatePod = async (a: Attributes): Promise<void> => {
    if (IGNORED_POD_SUBRESOURCES.has(a.subresource)) return;
    const pod = a.object as Pod | undefined;
    if (!pod) return;
    const { policy, errors } = await namespacePolicy(a);
    if (
      errors.length === 0 &&
      policy.enforce.level === "privileged" &&
      policy.warn.level === "privileged" &&
      policy.audit.level === "privileged"
    ) {
      // upstream privilegedResponse: nothing to check, the policy still recorded.
      a.addAnnotation(ENFORCE_POLICY_ANNOTATION, "privileged:latest");
      return;
    }
    if (a.operation === "UPDATE" && a.oldObject && !isSignificantPodUpdate(pod, a.oldObject as Pod)) return;
    evaluatePod(a, policy, errors, pod.metadata, pod.spec ?? { containers: [] }, true);
  };

  const validatePodController = async (a: Attributes, templateOf: TemplateOf): Promise<void> => {
    if (a.subresource !== "" || !a.object) return;
    const { policy, errors } = await namespacePolicy(a);
    if (errors.length === 0 && policy.warn.level === "privileged" && policy.audit.level === "privileged") return;
    const template = templateOf(a.object);
    if (!template) return;
    evaluatePod(a, policy, errors, template.metadata, template.spec ?? { containers: [] }, false);
  };

  return {
    name: POD_SECURITY,
    handles: (op: Operation) => op === "CREATE" || op === "UPDATE",
    async validate(a) {
      const key = `${a.resource.group}/${a.resource.resource}`;
      if (key === "/namespaces") return validateNamespace(a);
      if (key === "/pods") return validatePod(a);
      const templateOf = POD_TEMPLATE_RESOURCES[key];
      if (templateOf) return validatePodController(a, templateOf);
    },
  };
}
