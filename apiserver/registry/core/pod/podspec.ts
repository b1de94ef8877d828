// Validation of a pod spec (upstream pkg/apis/core/validation: ValidatePodSpec and friends),
// shared by pods and every pod template (deployments, replicasets, jobs...).

import { PULL_POLICIES } from "#pkg/api/defaults.js";
import { type FieldError, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import { parseQuantityExact } from "#pkg/api/quantity.js";
import {
  type Container,
  type PodSpec,
  type Probe,
  type Toleration,
  VOLUME_SOURCE_FIELDS,
  type Volume,
} from "#pkg/api/types/core.js";
import {
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  envVarNameErrors,
  fieldDuplicate,
  PORT_RANGE_ERROR,
  PROTOCOLS,
  qualifiedNameErrors,
  validateIntOrStringPort,
  validateLabels,
  validatePortName,
  validatePortNumber,
  validateQuantity,
} from "#pkg/api/validation.js";
import { isObject } from "../../common.js";

export const RESTART_POLICIES = ["Always", "OnFailure", "Never"] as const;
export const DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"] as const;
const VOLUME_SOURCES = VOLUME_SOURCE_FIELDS;
const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
const NODE_SELECTOR_OPS = ["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"] as const;
const LABEL_SELECTOR_OPS = ["In", "NotIn", "Exists", "DoesNotExist"] as const;

function fieldNotFound(field: string, value: unknown): FieldError {
  return { field, type: "FieldValueNotFound", message: `Not found: ${JSON.stringify(value)}` };
}

function nonNegative(v: unknown, path: string): FieldError[] {
  if (v === undefined) return [];
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    return [fieldInvalid(path, v, "must be greater than or equal to 0")];
  }
  return [];
}

/** Standard resource names, or any domain-qualified name (example.com/gpu). */
function resourceNameErrors(name: string, path: string): FieldError[] {
  const standard = ["cpu", "memory", "ephemeral-storage", "storage", "pods"];
  if (standard.includes(name) || name.startsWith("hugepages-")) return [];
  if (!name.includes("/")) {
    return [fieldInvalid(path, name, "must be a standard resource type or fully qualified")];
  }
  return qualifiedNameErrors(name).map((m) => fieldInvalid(path, name, m));
}

function validateResources(c: Container, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const r = c.resources;
  if (!r) return errs;
  const checked = new Map<string, bigint>();
  for (const kind of ["limits", "requests"] as const) {
    const m = r[kind];
    if (m === undefined) continue;
    if (!isObject(m)) {
      errs.push(fieldInvalid(`${path}.${kind}`, m, "must be a map of resource names to quantities"));
      continue;
    }
    for (const [name, q] of Object.entries(m)) {
      const p = `${path}.${kind}[${name}]`;
      errs.push(...resourceNameErrors(name, p));
      const qe = validateQuantity(q, p);
      errs.push(...qe);
      if (qe.length === 0 && kind === "limits") checked.set(name, parseQuantityExact(q as string | number).nanos);
    }
  }
  for (const [name, q] of Object.entries(r.requests ?? {})) {
    const limit = checked.get(name);
    if (limit === undefined) continue;
    let req: bigint;
    try {
      req = parseQuantityExact(q).nanos;
    } catch {
      continue;
    }
    if (req > limit) {
      errs.push(
        fieldInvalid(
          `${path}.requests`,
          String(q),
          `must be less than or equal to ${name} limit of ${String(r.limits?.[name] ?? "")}`,
        ),
      );
    }
  }
  return errs;
}

function handlerCount(h: Record<string, unknown>, kinds: string[]): number {
  return kinds.filter((k) => h[k] !== undefined && h[k] !== null).length;
}

function validateProbe(p: Probe | undefined, path: string, kind: "liveness" | "readiness" | "startup"): FieldError[] {
  if (p === undefined) return [];
  if (!isObject(p)) return [fieldInvalid(path, p, "must be an object")];
  const errs: FieldError[] = [];
  const n = handlerCount(p, ["exec", "httpGet", "tcpSocket", "grpc"]);
  if (n === 0) errs.push(fieldRequired(path, "must specify a handler type"));
  else if (n > 1) errs.push(fieldForbidden(path, "may not specify more than 1 handler type"));
  errs.push(...nonNegative(p.initialDelaySeconds, `${path}.initialDelaySeconds`));
  errs.push(...nonNegative(p.timeoutSeconds, `${path}.timeoutSeconds`));
  errs.push(...nonNegative(p.periodSeconds, `${path}.periodSeconds`));
  errs.push(...nonNegative(p.successThreshold, `${path}.successThreshold`));
  errs.push(...nonNegative(p.failureThreshold, `${path}.failureThreshold`));
  if (kind !== "readiness" && p.successThreshold !== undefined && p.successThreshold !== 1) {
    errs.push(fieldInvalid(`${path}.successThreshold`, p.successThreshold, "must be 1"));
  }
  if (p.httpGet) errs.push(...validateIntOrStringPort(p.httpGet.port, `${path}.httpGet.port`));
  if (p.tcpSocket) errs.push(...validateIntOrStringPort(p.tcpSocket.port, `${path}.tcpSocket.port`));
  if (p.httpGet?.scheme !== undefined && !["HTTP", "HTTPS"].includes(p.httpGet.scheme)) {
    errs.push(fieldNotSupported(`${path}.httpGet.scheme`, p.httpGet.scheme, ["HTTP", "HTTPS"]));
  }
  return errs;
}

function validateContainer(
  c: Container,
  path: string,
  volumes: Set<string>,
  o: { init: boolean; hostNetwork: boolean; ephemeral?: boolean },
): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(fieldRequired(`${path}.name`));
  else for (const m of dns1123LabelErrors(c.name)) errs.push(fieldInvalid(`${path}.name`, c.name, m));
  if (!c.image) errs.push(fieldRequired(`${path}.image`));
  else if (c.image.trim() !== c.image) {
    errs.push(fieldInvalid(`${path}.image`, c.image, "must not have leading or trailing whitespace"));
  }
  if (c.imagePullPolicy !== undefined && !(PULL_POLICIES as readonly string[]).includes(c.imagePullPolicy)) {
    errs.push(fieldNotSupported(`${path}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
  }
  if (
    c.terminationMessagePolicy !== undefined &&
    !["File", "FallbackToLogsOnError"].includes(c.terminationMessagePolicy)
  ) {
    errs.push(
      fieldNotSupported(`${path}.terminationMessagePolicy`, c.terminationMessagePolicy, [
        "File",
        "FallbackToLogsOnError",
      ]),
    );
  }
  if (c.restartPolicy !== undefined && !o.ephemeral) {
    if (!o.init) errs.push(fieldForbidden(`${path}.restartPolicy`, "may not be set for non-init containers"));
    else if (c.restartPolicy !== "Always")
      errs.push(fieldNotSupported(`${path}.restartPolicy`, c.restartPolicy, ["Always"]));
  }

  // ports
  const portNames = new Set<string>();
  (c.ports ?? []).forEach((port, i) => {
    const p = `${path}.ports[${i}]`;
    if (port.containerPort === undefined) errs.push(fieldRequired(`${p}.containerPort`));
    else errs.push(...validatePortNumber(port.containerPort, `${p}.containerPort`));
    if (port.hostPort !== undefined && port.hostPort !== 0)
      errs.push(...validatePortNumber(port.hostPort, `${p}.hostPort`));
    if (o.hostNetwork && port.hostPort !== undefined && port.hostPort !== port.containerPort) {
      errs.push(fieldInvalid(`${p}.hostPort`, port.hostPort, "must match `containerPort` when `hostNetwork` is true"));
    }
    if (port.protocol !== undefined && !(PROTOCOLS as readonly string[]).includes(port.protocol)) {
      errs.push(fieldNotSupported(`${p}.protocol`, port.protocol, PROTOCOLS));
    }
    if (port.name !== undefined && port.name !== "") {
      errs.push(...validatePortName(port.name, `${p}.name`));
      if (portNames.has(port.name)) errs.push(fieldDuplicate(`${p}.name`, port.name));
      portNames.add(port.name);
    }
  });

  // env
  (c.env ?? []).forEach((env, i) => {
    const p = `${path}.env[${i}]`;
    if (!env.name) errs.push(fieldRequired(`${p}.name`));
    else for (const m of envVarNameErrors(env.name)) errs.push(fieldInvalid(`${p}.name`, env.name, m));
    if (env.valueFrom) {
      const n = handlerCount(env.valueFrom, ["fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef"]);
      if (n === 0)
        errs.push(
          fieldInvalid(
            `${p}.valueFrom`,
            "",
            "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
          ),
        );
      if (n > 1) errs.push(fieldInvalid(`${p}.valueFrom`, "", "may not have more than one field specified at a time"));
      if (env.value) errs.push(fieldInvalid(`${p}.valueFrom`, "", "may not be specified when `value` is not empty"));
      if (env.valueFrom.fieldRef && !env.valueFrom.fieldRef.fieldPath) {
        errs.push(fieldRequired(`${p}.valueFrom.fieldRef.fieldPath`));
      }
      for (const ref of ["configMapKeyRef", "secretKeyRef"] as const) {
        const r = env.valueFrom[ref];
        if (r && !r.key) errs.push(fieldRequired(`${p}.valueFrom.${ref}.key`));
      }
    }
  });

  errs.push(...validateResources(c, `${path}.resources`));

  // volume mounts
  const mountPaths = new Set<string>();
  (c.volumeMounts ?? []).forEach((vm, i) => {
    const p = `${path}.volumeMounts[${i}]`;
    if (!vm.name) errs.push(fieldRequired(`${p}.name`));
    else if (!volumes.has(vm.name)) errs.push(fieldNotFound(`${p}.name`, vm.name));
    if (!vm.mountPath) errs.push(fieldRequired(`${p}.mountPath`));
    else {
      if (mountPaths.has(vm.mountPath)) errs.push(fieldInvalid(`${p}.mountPath`, vm.mountPath, "must be unique"));
      mountPaths.add(vm.mountPath);
    }
  });

  if (o.init) {
    // Upstream: plain init containers run to completion, so they may not have probes.
    if (c.restartPolicy !== "Always") {
      for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"] as const) {
        if (c[probe]) errs.push(fieldForbidden(`${path}.${probe}`, "may not be set for init containers"));
      }
    }
  } else if (!o.ephemeral) {
    errs.push(...validateProbe(c.livenessProbe, `${path}.livenessProbe`, "liveness"));
    errs.push(...validateProbe(c.readinessProbe, `${path}.readinessProbe`, "readiness"));
    errs.push(...validateProbe(c.startupProbe, `${path}.startupProbe`, "startup"));
  }
  return errs;
}

function validateVolume(v: Volume, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!v.name) errs.push(fieldRequired(`${path}.name`));
  else for (const m of dns1123LabelErrors(v.name)) errs.push(fieldInvalid(`${path}.name`, v.name, m));
  const n = VOLUME_SOURCES.filter((s) => (v as Record<string, unknown>)[s] !== undefined).length;
  if (n === 0) errs.push(fieldRequired(path, "must specify a volume type"));
  if (n > 1) errs.push(fieldForbidden(path, "may not specify more than 1 volume type"));
  if (v.hostPath && !v.hostPath.path) errs.push(fieldRequired(`${path}.hostPath.path`));
  if (v.persistentVolumeClaim && !v.persistentVolumeClaim.claimName) {
    errs.push(fieldRequired(`${path}.persistentVolumeClaim.claimName`));
  }
  if (v.secret && !v.secret.secretName) errs.push(fieldRequired(`${path}.secret.secretName`));
  if (v.configMap && !v.configMap.name) errs.push(fieldRequired(`${path}.configMap.name`));
  if (v.emptyDir?.sizeLimit !== undefined)
    errs.push(...validateQuantity(v.emptyDir.sizeLimit, `${path}.emptyDir.sizeLimit`));
  return errs;
}

export function validateTolerations(ts: Toleration[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (ts ?? []).forEach((t, i) => {
    const p = `${path}[${i}]`;
    if (t.key) for (const m of qualifiedNameErrors(t.key)) errs.push(fieldInvalid(`${p}.key`, t.key, m));
    if (!t.key && t.operator !== "Exists") {
      errs.push(
        fieldInvalid(
          `${p}.operator`,
          t.operator ?? "",
          'operator must be Exists when `key` is empty, which means "match all values and all keys"',
        ),
      );
    }
    if (t.operator !== undefined && t.operator !== "" && !["Exists", "Equal"].includes(t.operator)) {
      errs.push(fieldNotSupported(`${p}.operator`, t.operator, ["Equal", "Exists"]));
    }
    if (t.operator === "Exists" && t.value) {
      errs.push(fieldInvalid(`${p}.operator`, t.value, "value must be empty when `operator` is 'Exists'"));
    }
    if (t.effect && !(TAINT_EFFECTS as readonly string[]).includes(t.effect)) {
      errs.push(fieldNotSupported(`${p}.effect`, t.effect, TAINT_EFFECTS));
    }
    if (t.tolerationSeconds !== undefined && t.effect !== "NoExecute") {
      errs.push(
        fieldInvalid(`${p}.effect`, t.effect ?? "", "effect must be 'NoExecute' when `tolerationSeconds` is set"),
      );
    }
  });
  return errs;
}

export function validateNodeSelectorTerm(
  term: { matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } | undefined,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  (term?.matchExpressions ?? []).forEach((r, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    if (!(NODE_SELECTOR_OPS as readonly string[]).includes(r.operator)) {
      errs.push(fieldInvalid(`${p}.operator`, r.operator, "not a valid selector operator"));
    }
    const n = r.values?.length ?? 0;
    if ((r.operator === "In" || r.operator === "NotIn") && n === 0) {
      errs.push(fieldRequired(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    }
    if ((r.operator === "Exists" || r.operator === "DoesNotExist") && n > 0) {
      errs.push(fieldForbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    }
    if ((r.operator === "Gt" || r.operator === "Lt") && n !== 1) {
      errs.push(fieldRequired(`${p}.values`, "must be specified single value when `operator` is 'Lt' or 'Gt'"));
    }
    for (const m of qualifiedNameErrors(r.key ?? "")) errs.push(fieldInvalid(`${p}.key`, r.key, m));
  });
  return errs;
}

/** A metav1.LabelSelector in a spec: operators and values as upstream. */
export function validateLabelSelector(
  ls:
    | {
        matchLabels?: Record<string, string>;
        matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
      }
    | undefined,
  path: string,
): FieldError[] {
  if (!ls) return [];
  const errs = validateLabels(ls.matchLabels, `${path}.matchLabels`);
  (ls.matchExpressions ?? []).forEach((r, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    if (!(LABEL_SELECTOR_OPS as readonly string[]).includes(r.operator)) {
      errs.push(fieldInvalid(`${p}.operator`, r.operator, "not a valid selector operator"));
    }
    const n = r.values?.length ?? 0;
    if ((r.operator === "In" || r.operator === "NotIn") && n === 0) {
      errs.push(fieldRequired(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    }
    if ((r.operator === "Exists" || r.operator === "DoesNotExist") && n > 0) {
      errs.push(fieldForbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    }
    for (const m of qualifiedNameErrors(r.key ?? "")) errs.push(fieldInvalid(`${p}.key`, r.key, m));
  });
  return errs;
}

function validateAffinity(spec: PodSpec, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const a = spec.affinity;
  if (!a) return errs;
  const na = a.nodeAffinity;
  if (na?.requiredDuringSchedulingIgnoredDuringExecution) {
    const p = `${path}.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution`;
    const terms = na.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms ?? [];
    if (terms.length === 0)
      errs.push(fieldRequired(`${p}.nodeSelectorTerms`, "must have at least one node selector term"));
    terms.forEach((t, i) => {
      errs.push(...validateNodeSelectorTerm(t, `${p}.nodeSelectorTerms[${i}]`));
    });
  }
  (na?.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((t, i) => {
    const p = `${path}.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
    if (!(t.weight >= 1 && t.weight <= 100))
      errs.push(fieldInvalid(`${p}.weight`, t.weight, "must be in the range 1-100"));
    errs.push(...validateNodeSelectorTerm(t.preference, `${p}.preference`));
  });
  for (const kind of ["podAffinity", "podAntiAffinity"] as const) {
    const pa = a[kind];
    if (!pa) continue;
    (pa.requiredDuringSchedulingIgnoredDuringExecution ?? []).forEach((t, i) => {
      const p = `${path}.${kind}.requiredDuringSchedulingIgnoredDuringExecution[${i}]`;
      if (!t.topologyKey) errs.push(fieldRequired(`${p}.topologyKey`, "can not be empty"));
      errs.push(...validateLabelSelector(t.labelSelector, `${p}.labelSelector`));
    });
    (pa.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((t, i) => {
      const p = `${path}.${kind}.preferredDuringSchedulingIgnoredDuringExecution[${i}]`;
      if (!(t.weight >= 1 && t.weight <= 100))
        errs.push(fieldInvalid(`${p}.weight`, t.weight, "must be in the range 1-100"));
      if (!t.podAffinityTerm?.topologyKey)
        errs.push(fieldRequired(`${p}.podAffinityTerm.topologyKey`, "can not be empty"));
      errs.push(...validateLabelSelector(t.podAffinityTerm?.labelSelector, `${p}.podAffinityTerm.labelSelector`));
    });
  }
  return errs;
}

/**
 * What an ephemeral container may set (upstream allowedEphemeralContainerFields): the rest of a
 * Container's fields, in Go's field order, are forbidden, since an ephemeral container must
 * not be relied upon for the pod's own service.
 */
const EPHEMERAL_FORBIDDEN = [
  "ports",
  "resources",
  "resizePolicy",
  "restartPolicy",
  "restartPolicyRules",
  "livenessProbe",
  "readinessProbe",
  "startupProbe",
  "lifecycle",
] as const;
const EPHEMERAL_FORBIDDEN_MESSAGE = "cannot be set for an Ephemeral Container";

/** Whether a JSON field holds what Go would decode to a non-zero value (a struct value with a set field). */
function isSet(v: unknown, struct: boolean): boolean {
  if (v === undefined || v === null) return false;
  if (struct && isObject(v)) return Object.values(v).some((x) => x !== undefined && x !== null);
  return true;
}

/** upstream validateEphemeralContainers: the common container checks plus the ephemeral rules. */
function validateEphemeralContainers(spec: PodSpec, path: string, volumes: Set<string>): FieldError[] {
  const list = spec.ephemeralContainers;
  if (!Array.isArray(list) || list.length === 0) return [];
  const errs: FieldError[] = [];
  const others = new Set([...(spec.containers ?? []), ...(spec.initContainers ?? [])].map((c) => c?.name));
  const all = new Set(others);
  list.forEach((ec, i) => {
    const p = `${path}.ephemeralContainers[${i}]`;
    if (!isObject(ec)) {
      errs.push(fieldInvalid(p, ec, "must be an object"));
      return;
    }
    errs.push(
      ...validateContainer(ec, p, volumes, { init: false, hostNetwork: spec.hostNetwork === true, ephemeral: true }),
    );
    if (ec.name) {
      if (all.has(ec.name)) errs.push(fieldDuplicate(`${p}.name`, ec.name));
      all.add(ec.name);
    }
    if (ec.targetContainerName && !others.has(ec.targetContainerName)) {
      errs.push(fieldNotFound(`${p}.targetContainerName`, ec.targetContainerName));
    }
    for (const f of EPHEMERAL_FORBIDDEN) {
      if (isSet(ec[f], f === "resources")) errs.push(fieldForbidden(`${p}.${f}`, EPHEMERAL_FORBIDDEN_MESSAGE));
    }
    (ec.volumeMounts ?? []).forEach((vm, j) => {
      for (const f of ["subPath", "subPathExpr"] as const) {
        if (vm?.[f]) errs.push(fieldForbidden(`${p}.volumeMounts[${j}].${f}`, EPHEMERAL_FORBIDDEN_MESSAGE));
      }
    });
  });
  return errs;
}

/** ValidatePodSpec: path is "spec" for pods, "spec.template.spec" for templates. */
export function validatePodSpec(
  spec: PodSpec | undefined,
  path: string,
  extraVolumes: readonly string[] = [],
): FieldError[] {
  if (!isObject(spec)) return [fieldRequired(path)];
  const errs: FieldError[] = [];

  // extraVolumes: names mounts may refer to besides spec.volumes (statefulset volumeClaimTemplates).
  const volumes = new Set<string>(extraVolumes);
  (spec.volumes ?? []).forEach((v, i) => {
    const p = `${path}.volumes[${i}]`;
    errs.push(...validateVolume(v, p));
    if (v.name) {
      if (volumes.has(v.name)) errs.push(fieldDuplicate(`${p}.name`, v.name));
      volumes.add(v.name);
    }
  });

  const hostNetwork = spec.hostNetwork === true;
  const names = new Set<string>();
  const checkName = (c: Container, p: string) => {
    if (!c.name) return;
    if (names.has(c.name)) errs.push(fieldDuplicate(`${p}.name`, c.name));
    names.add(c.name);
  };
  (spec.initContainers ?? []).forEach((c, i) => {
    const p = `${path}.initContainers[${i}]`;
    errs.push(...validateContainer(c, p, volumes, { init: true, hostNetwork }));
    checkName(c, p);
  });
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) {
    errs.push(fieldRequired(`${path}.containers`));
  } else {
    spec.containers.forEach((c, i) => {
      const p = `${path}.containers[${i}]`;
      errs.push(...validateContainer(c, p, volumes, { init: false, hostNetwork }));
      checkName(c, p);
    });
  }

  if (path.endsWith("template.spec") && (spec.ephemeralContainers ?? []).length > 0) {
    // upstream ValidatePodTemplateSpec
    errs.push(fieldForbidden(`${path}.ephemeralContainers`, "ephemeral containers not allowed in pod template"));
  } else errs.push(...validateEphemeralContainers(spec, path, volumes));

  // Host ports must be unique within the pod (upstream AccumulateUniqueHostPorts).
  const hostPorts = new Set<string>();
  (spec.containers ?? []).forEach((c, i) => {
    (c?.ports ?? []).forEach((port, j) => {
      if (!port?.hostPort) return;
      const key = `${port.hostIP ?? ""}/${port.hostPort}/${port.protocol ?? "TCP"}`;
      if (hostPorts.has(key)) {
        errs.push(
          fieldDuplicate(`${path}.containers[${i}].ports[${j}].hostPort`, `${port.hostPort}/${port.protocol ?? "TCP"}`),
        );
      }
      hostPorts.add(key);
    });
  });

  if (spec.restartPolicy !== undefined && !(RESTART_POLICIES as readonly string[]).includes(spec.restartPolicy)) {
    errs.push(fieldNotSupported(`${path}.restartPolicy`, spec.restartPolicy, RESTART_POLICIES));
  }
  if (spec.dnsPolicy !== undefined && !(DNS_POLICIES as readonly string[]).includes(spec.dnsPolicy)) {
    errs.push(fieldNotSupported(`${path}.dnsPolicy`, spec.dnsPolicy, DNS_POLICIES));
  }
  if (spec.terminationGracePeriodSeconds !== undefined) {
    errs.push(...nonNegative(spec.terminationGracePeriodSeconds, `${path}.terminationGracePeriodSeconds`));
  }
  if (spec.activeDeadlineSeconds !== undefined) {
    const v = spec.activeDeadlineSeconds;
    if (!(Number.isInteger(v) && v >= 1 && v <= 2147483647)) {
      errs.push(fieldInvalid(`${path}.activeDeadlineSeconds`, v, "must be between 1 and 2147483647, inclusive"));
    }
  }
  errs.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  if (spec.serviceAccountName) {
    for (const m of dns1123SubdomainErrors(spec.serviceAccountName)) {
      errs.push(fieldInvalid(`${path}.serviceAccountName`, spec.serviceAccountName, m));
    }
  }
  if (spec.nodeName) {
    for (const m of dns1123SubdomainErrors(spec.nodeName))
      errs.push(fieldInvalid(`${path}.nodeName`, spec.nodeName, m));
  }
  for (const f of ["hostname", "subdomain"] as const) {
    const v = spec[f];
    if (v) for (const m of dns1123LabelErrors(v)) errs.push(fieldInvalid(`${path}.${f}`, v, m));
  }
  errs.push(...validateTolerations(spec.tolerations, `${path}.tolerations`));
  errs.push(...validateAffinity(spec, `${path}.affinity`));
  if (spec.schedulerName === "") errs.push(fieldRequired(`${path}.schedulerName`));
  return errs;
}

export { PORT_RANGE_ERROR };
