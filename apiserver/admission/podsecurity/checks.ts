// The Pod Security Standards' checks (upstream pod-security-admission/policy/check_*.go): each
// looks at a pod's metadata and spec and either allows it or says why not, in upstream's words
// (the reason is the short form used for namespace-wide warnings, the detail names the
// containers and values). A check has versions: the one applied for a policy version is the
// newest whose minimum version is not newer than it.

import type { ObjectMeta } from "#pkg/api/meta.js";
import type { Container, PodSpec, Probe, SecurityContext, Volume } from "#pkg/api/types/core.js";
import type { Level } from "./api.js";

export interface CheckResult {
  allowed: boolean;
  /** Short and always shown, e.g. "host namespaces". */
  forbiddenReason?: string;
  /** Specific values, shown when one object is checked, e.g. "hostNetwork=true". */
  forbiddenDetail?: string;
}

export type CheckPodFn = (meta: ObjectMeta | undefined, spec: PodSpec) => CheckResult;

export interface VersionedCheck {
  /** The first policy minor version (v1.N) it applies to. */
  minimumMinor: number;
  checkPod: CheckPodFn;
}

export interface Check {
  id: string;
  level: Exclude<Level, "privileged">;
  /** A baseline check a restricted check supersedes: run for baseline only. */
  overlap?: boolean;
  /** Strictly increasing minimum versions. */
  versions: VersionedCheck[];
}

const ALLOWED: CheckResult = { allowed: true };
const forbid = (reason: string, detail: string): CheckResult => ({
  allowed: false,
  forbiddenReason: reason,
  forbiddenDetail: detail,
});

// ---------------------------------------------------------------- helpers (upstream helpers.go)

/** `"a", "b"` (upstream joinQuote). */
export function joinQuote(items: readonly string[]): string {
  return items.length === 0 ? "" : `"${items.join('", "')}"`;
}

export const pluralize = (singular: string, plural: string, n: number): string => (n === 1 ? singular : plural);

const sortedUnique = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

/** Init containers, containers, then ephemeral containers (upstream visitContainers). */
function containersOf(spec: PodSpec): Container[] {
  const ephemeral = Array.isArray(spec.ephemeralContainers) ? (spec.ephemeralContainers as Container[]) : [];
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...ephemeral];
}

const sc = (c: Container): SecurityContext | undefined => c.securityContext;
const isWindows = (spec: PodSpec) => spec.os?.name === "windows";

/** "pod", "container \"c\"", "pod and containers \"a\", \"b\"" (the setters of a bad value). */
function setters(pod: boolean, containers: readonly string[]): string[] {
  const out = pod ? ["pod"] : [];
  if (containers.length > 0)
    out.push(`${pluralize("container", "containers", containers.length)} ${joinQuote(containers)}`);
  return out;
}

const containersPhrase = (names: readonly string[]) =>
  `${pluralize("container", "containers", names.length)} ${joinQuote(names)}`;

// ---------------------------------------------------------------- baseline

function privileged_1_0(_m: ObjectMeta | undefined, spec: PodSpec): CheckResult {
  const bad = containersOf(spec)
    .filter((c) => sc(c)?.privileged === true)
    .map((c) => c.name);
  if (bad.length === 0) return ALLOWED;
  return forbid("privileged", `${containersPhrase(bad)} must not set securityContext.privileged=true`);
}

function hostNamespaces_1_0(_m: ObjectMeta | undefined, spec: PodSpec): CheckResult {
  const set: string[] = [];
  if (spec.hostNetwork) set.push("hostNetwork=true");
  if (spec.hostPID) set.push("hostPID=true");
  if (spec.hostIPC) set.push("hostIPC=true");
  if (set.length === 0) return ALLOWED;
  return forbid("host namespaces", sortedUnique(set).join(", "));
}

function hostPathVolumes_1_0(_m: ObjectMeta | undefined, spec: PodSpec): CheckResult {
  const bad = (spec.volumes ?? []).filter((v) => v.hostPath).map((v) => v.name);
  if (bad.length === 0) return ALLOWED;
  return forbid("hostPath volumes", `${pluralize("volume", "volumes", bad.length)} ${joinQuote(bad)}`);
}

function hostPorts_1_0(_m: ObjectMeta | undefined, spec: PodSpec): CheckResult {
  const bad: string[] = [];
  const ports = new Set<string>();
  for (const c of containersOf(spec)) {
    let valid = true;
    for (const p of c.ports ?? []) {
      if (p.hostPort) {
        valid = false;
        ports.add(String(p.hostPort));
      }
    }
    if (!valid) bad.push(c.name);
  }
  if (bad.length === 0) return ALLOWED;
  const list = sortedUnique(ports);
  return forbid(
    "hostPort",
    `${containersPhrase(bad)} ${pluralize("uses", "use", bad.length)} ${pluralize("hostPort", "hostPorts", list.length)} ${list.join(", ")}`,
  );
}

const BASELINE_CAPABILITIES = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);

function capabilitiesBaseline_1_0(_m: ObjectMeta | undefined, spec: PodSpec): CheckResult {
  const bad: string[] = [];
  const caps = new Set<string>();
  for (const c of containersOf(spec)) {
    let valid = true;
    for (const cap of sc(c)?.capabilities?.add ?? []) {
      if (!BASELINE_CAPABILITIES.has(cap)) {
        valid = false;
        caps.add(cap);
      }
    }
    if (!valid) bad.push(c.name);
  }
  if (bad.length === 0) return ALLOWED;
  return forbid(
    "non-default capabilities",
    `${containersPhrase(bad)} must not include ${joinQuote(sortedUnique(caps))} in securityContext.capabilities.add`,
  );
}

const APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

function appArmorProfile_1_0(meta: ObjectMeta | undefined, spec: PodSpec): CheckResult {
  const allowedType = (t: string | undefined) => t === "RuntimeDefault" || t === "Localhost";
  const badValues = new Set<string>();
  const pod =
    spec.securityContext?.appArmorProfile !== undefined && !allowedType(spec.securityContext.appArmorProfile.type);
  if (pod) badValues.add(spec.securityContext?.appArmorProfile?.type ?? "");
  const bad: string[] = [];
  for (const c of containersOf(spec)) {
    const p = sc(c)?.appArmorProfile;
    if (p && !allowedType(p.type)) {
      bad.push(c.name);
      badValues.add(p.type);
    }
  }
  const who = setters(pod, bad);
  const annotations: string[] = [];
  for (const [k, v] of Object.entries(meta?.annotations ?? {})) {
    if (!k.startsWith(APPARMOR_ANNOTATION_PREFIX)) continue;
    if (v === "" || v === "runtime/default" || v.startsWith("localhost/")) continue;
    annotations.push(`${k}=${JSON.stringify(v)}`);
  }
  const values = sortedUnique(badValues);
  if (annotations.length > 0) {
    values.push(...annotations.sort());
    who.push(pluralize("annotation", "annotations", annotations.length));
  }
  if (who.length === 0) return ALLOWED;
  return forbid(
    pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", values.length),
    `${who.join(" and ")} must not set AppArmor profile type to ${joinQuote(values)}`,
  );
}

function seLinuxOptionsCheck(allowedTypes: ReadonlySet<string>): CheckPodFn {
  return (_m, spec) => {
    const badTypes = new Set<string>();
    let setUser = false;
    let setRole = false;
    const valid = (o: { type?: string; user?: string; role?: string }) => {
      let ok = true;
      if (!allowedTypes.has(o.type ?? "")) {
        ok = false;
        badTypes.add(o.type ?? "");
      }
      if (o.user) {
        ok = false;
        setUser = true;
      }
      if (o.role) {
        ok = false;
        setRole = true;
      }
      return ok;
    };
    const podOpts = spec.securityContext?.seLinuxOptions;
    const pod = podOpts !== undefined && !valid(podOpts);
    const bad = containersOf(spec)
      .filter((c) => {
        const o = sc(c)?.seLinuxOptions;
        return o !== undefined && !valid(o);
      })
      .map((c) => c.name);
    const who = setters(pod, bad);
    if (who.length === 0) return ALLOWED;
    const data: string[] = [];
    if (badTypes.size > 0) {
      const types = sortedUnique(badTypes);
      data.push(`${pluralize("type", "types", types.length)} ${joinQuote(types)}`);
    }
    if (setUser) data.push("user may not be set");
    if (setRole) data.push("role may not be set");
    return forbid(
      "seLinuxOptions",
      `${who.join(" and ")} set forbidden securityContext.seLinuxOptions: ${data.join("; ")}`,
    );
  };
}

const SELINUX_TYPES_1_0 = new Set(["", "container_t", "container_init_t", "container_kvm_t"]);
const SELINUX_TYPES_1_31 = new Set([...SELINUX_TYPES_1_0, "container_engine_t"]);

function procMount_1_0(_m: ObjectMeta | undefined, spec: PodSpec): CheckResult {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const c of containersOf(spec)) {
    const pm = sc(c)?.procMount;
    if (pm !== undefined && pm !== "Default") {
      bad.push(c.name);
      types.add(pm);
    }
  }
  if (bad.length === 0) return ALLOWED;
  return forbid(
    "procMount",
    `${containersPhrase(bad)} must not set securityContext.procMount to ${joinQuote(sortedUnique(types))}`,
  );
}

const SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = "container.seccomp.security.alpha.kubernetes.io/";
const validSeccomp = (t: string | undefined) => t === "RuntimeDefault" || t === "Localhost";

function seccompProfileBaseline_1_0(meta: ObjectMeta | undefined, spec: PodSpec): CheckResult {
  const validValue = (v: string) => v === "runtime/default" || v === "docker/default" || v.startsWith("localhost/");
  const annotations = meta?.annotations ?? {};
  const forbidden = new Set<string>();
  const podValue = annotations[SECCOMP_POD_ANNOTATION];
  if (podValue !== undefined && !validValue(podValue))
    forbidden.add(`${SECCOMP_POD_ANNOTATION}=${JSON.stringify(podValue)}`);
  for (const c of containersOf(spec)) {
    const key = SECCOMP_CONTAINER_ANNOTATION_PREFIX + c.name;
    const v = annotations[key];
    if (v !== undefined && !validValue(v)) forbidden.add(`${key}=${JSON.stringify(v)}`);
  }
  if (forbidden.size === 0) return ALLOWED;
  return forbid(
    "seccompProfile",
    `forbidden ${pluralize("annotation", "annotations", forbidden.size)} ${sortedUnique(forbidden).join(", ")}`,
  );
}

function seccompProfileBaseline_1_19(_m: ObjectMeta | undefined, spec: PodSpec): CheckResult {
  const badValues = new Set<string>();
  const podProfile = spec.securityContext?.seccompProfile;
  const pod = podProfile !== undefined && !validSeccomp(podProfile.type);
  if (pod) badValues.add(podProfile?.type ?? "");
  const bad: string[] = [];
  for (const c of containersOf(spec)) {
    const p = sc(c)?.seccompProfile;
    if (p && !validSeccomp(p.type)) {
      bad.push(c.name);
      badValues.add(p.type);
    }
  }
  const who = setters(pod, bad);
  if (who.length === 0) return ALLOWED;
  return forbid(
    "seccompProfile",
    `${who.join(" and ")} must not set securityContext.seccompProfile.type to ${joinQuote(sortedUnique(badValues))}`,
  );
}

const SYSCTLS_1_0 = [
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_unprivileged_port_start",
];
const SYSCTLS_1_27 = [...SYSCTLS_1_0, "net.ipv4.ip_local_reserved_ports"];
const SYSCTLS_1_29 = [
  ...SYSCTLS_1_27,
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
];
const SYSCTLS_1_32 = [...SYSCTLS_1_29, "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];

function sysctlsCheck(allowed: readonly string[]): CheckPodFn {
  const set = new Set(allowed);
  return (_m, spec) => {
    const bad = (spec.securityContext?.sysctls ?? []).map((s) => s.name).filter((n) => !set.has(n));
    if (bad.length === 0) return ALLOWED;
    return forbid("forbidden sysctls", bad.join(", "));
  };
}

function windowsHostProcess_1_0(_m: ObjectMeta | undefined, spec: PodSpec): CheckResult {
  const bad = containersOf(spec)
    .filter((c) => sc(c)?.windowsOptions?.hostProcess === true)
    .map((c) => c.name);
  const pod = spec.securityContext?.windowsOptions?.hostProcess === true;
  const who = setters(pod, bad);
  if (who.length === 0) return ALLOWED;
  return forbid("hostProcess", `${who.join(" and ")} must not set securityContext.windowsOptions.hostProcess=true`);
}

function hostProbesAndHostLifecycle_1_34(_m: ObjectMeta | undefined, spec: PodSpec): CheckResult {
  const badContainers = new Set<string>();
  const hosts = new Set<string>();
  const handlerHosts = (h: { httpGet?: { host?: string }; tcpSocket?: { host?: string } } | undefined) => {
    const out: string[] = [];
    if (h?.httpGet?.host) out.push(h.httpGet.host);
    if (h?.tcpSocket?.host) out.push(h.tcpSocket.host);
    return out;
  };
  for (const c of containersOf(spec)) {
    const probes: Array<Probe | undefined> = [c.livenessProbe, c.readinessProbe, c.startupProbe];
    const found = [
      ...probes.flatMap(handlerHosts),
      ...handlerHosts(c.lifecycle?.postStart),
      ...handlerHosts(c.lifecycle?.preStop),
    ];
    if (found.length > 0) {
      badContainers.add(c.name);
      for (const h of found) hosts.add(h);
    }
  }
  if (badContainers.size === 0) return ALLOWED;
  const names = sortedUnique(badContainers);
  const list = sortedUnique(hosts);
  return forbid(
    "probe or lifecycle host",
    `${containersPhrase(names)} ${pluralize("uses", "use", names.length)} ${pluralize("probe or lifecycle host", "probe or lifecycle hosts", list.length)} ${joinQuote(list)}`,
  );
}

// ---------------------------------------------------------------- restricted

/** The volume sources restricted allows (upstream restrictedVolumes_1_0). */
const RESTRICTED_ALLOWED_VOLUMES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);

/** The source field a volume sets ("hostPath", "nfs", ...), "unknown" when none is. */
function volumeType(v: Volume): string {
  for (const [k, val] of Object.entries(v)) if (k !== "name" && val !== undefined && val !== null) return k;
  return "unknown";
}

function restrictedVolumes_1_0(_m: ObjectMeta | undefined, spec: PodSpec): CheckResult {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const v of spec.volumes ?? []) {
    const t = volumeType(v);
    if (RESTRICTED_ALLOWED_VOLUMES.has(t)) continue;
    bad.push(v.name);
    types.add(t);
  }
  if (bad.length === 0) return ALLOWED;
  const list = sortedUnique(types);
  return forbid(
    "restricted volume types",
    `${pluralize("volume", "volumes", bad.length)} ${joinQuote(bad)} ${pluralize("uses", "use", bad.length)} ${pluralize("restricted volume type", "restricted volume types", list.length)} ${joinQuote(list)}`,
  );
}

function allowPrivilegeEscalationCheck(skipWindows: boolean): CheckPodFn {
  return (_m, spec) => {
    if (skipWindows && isWindows(spec)) return ALLOWED;
    const bad = containersOf(spec)
      .filter((c) => sc(c)?.allowPrivilegeEscalation !== false)
      .map((c) => c.name);
    if (bad.length === 0) return ALLOWED;
    return forbid(
      "allowPrivilegeEscalation != false",
      `${containersPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false`,
    );
  };
}

function runAsNonRoot_1_0(_m: ObjectMeta | undefined, spec: PodSpec): CheckResult {
  const podValue = spec.securityContext?.runAsNonRoot;
  const podBad = podValue === false;
  const podNonRoot = podValue === true;
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of containersOf(spec)) {
    const v = sc(c)?.runAsNonRoot;
    if (v !== undefined) {
      if (!v) explicit.push(c.name);
    } else if (!podNonRoot) implicit.push(c.name);
  }
  const who = setters(podBad, explicit);
  if (who.length > 0)
    return forbid("runAsNonRoot != true", `${who.join(" and ")} must not set securityContext.runAsNonRoot=false`);
  if (implicit.length > 0)
    return forbid(
      "runAsNonRoot != true",
      `pod or ${containersPhrase(implicit)} must set securityContext.runAsNonRoot=true`,
    );
  return ALLOWED;
}

function runAsUser_1_23(_m: ObjectMeta | undefined, spec: PodSpec): CheckResult {
  const pod = spec.securityContext?.runAsUser === 0;
  const bad = containersOf(spec)
    .filter((c) => sc(c)?.runAsUser === 0)
    .map((c) => c.name);
  const who = setters(pod, bad);
  if (who.length === 0) return ALLOWED;
  return forbid("runAsUser=0", `${who.join(" and ")} must not set runAsUser=0`);
}

function seccompProfileRestrictedCheck(skipWindows: boolean): CheckPodFn {
  return (_m, spec) => {
    if (skipWindows && isWindows(spec)) return ALLOWED;
    const badValues = new Set<string>();
    const podProfile = spec.securityContext?.seccompProfile;
    let podSet = false;
    let pod = false;
    if (podProfile !== undefined) {
      if (!validSeccomp(podProfile.type)) {
        pod = true;
        badValues.add(podProfile.type);
      } else podSet = true;
    }
    const explicit: string[] = [];
    const implicit: string[] = [];
    for (const c of containersOf(spec)) {
      const p = sc(c)?.seccompProfile;
      if (p !== undefined) {
        if (!validSeccomp(p.type)) {
          explicit.push(c.name);
          badValues.add(p.type);
        }
      } else if (!podSet) implicit.push(c.name);
    }
    const who = setters(pod, explicit);
    if (who.length > 0)
      return forbid(
        "seccompProfile",
        `${who.join(" and ")} must not set securityContext.seccompProfile.type to ${joinQuote(sortedUnique(badValues))}`,
      );
    if (implicit.length > 0)
      return forbid(
        "seccompProfile",
        `pod or ${containersPhrase(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
      );
    return ALLOWED;
  };
}

function capabilitiesRestrictedCheck(skipWindows: boolean): CheckPodFn {
  return (_m, spec) => {
    if (skipWindows && isWindows(spec)) return ALLOWED;
    const missingDropAll: string[] = [];
    const adding: string[] = [];
    const caps = new Set<string>();
    for (const c of containersOf(spec)) {
      const capabilities = sc(c)?.capabilities;
      if (!capabilities) {
        missingDropAll.push(c.name);
        continue;
      }
      if (!(capabilities.drop ?? []).includes("ALL")) missingDropAll.push(c.name);
      let addedForbidden = false;
      for (const cap of capabilities.add ?? []) {
        if (cap !== "NET_BIND_SERVICE") {
          addedForbidden = true;
          caps.add(cap);
        }
      }
      if (addedForbidden) adding.push(c.name);
    }
    const details: string[] = [];
    if (missingDropAll.length > 0)
      details.push(`${containersPhrase(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
    if (adding.length > 0)
      details.push(
        `${containersPhrase(adding)} must not include ${joinQuote(sortedUnique(caps))} in securityContext.capabilities.add`,
      );
    if (details.length === 0) return ALLOWED;
    return forbid("unrestricted capabilities", details.join("; "));
  };
}

// ---------------------------------------------------------------- the table

/**
 * Every check, in upstream's registration order (its check_*.go files in name order): within a
 * level, results are reported in this order.
 */
export const CHECKS: readonly Check[] = [
  {
    id: "allowPrivilegeEscalation",
    level: "restricted",
    versions: [
      { minimumMinor: 8, checkPod: allowPrivilegeEscalationCheck(false) },
      { minimumMinor: 25, checkPod: allowPrivilegeEscalationCheck(true) },
    ],
  },
  { id: "appArmorProfile", level: "baseline", versions: [{ minimumMinor: 0, checkPod: appArmorProfile_1_0 }] },
  {
    id: "capabilities_baseline",
    level: "baseline",
    overlap: true,
    versions: [{ minimumMinor: 0, checkPod: capabilitiesBaseline_1_0 }],
  },
  {
    id: "capabilities_restricted",
    level: "restricted",
    versions: [
      { minimumMinor: 22, checkPod: capabilitiesRestrictedCheck(false) },
      { minimumMinor: 25, checkPod: capabilitiesRestrictedCheck(true) },
    ],
  },
  { id: "hostNamespaces", level: "baseline", versions: [{ minimumMinor: 0, checkPod: hostNamespaces_1_0 }] },
  {
    id: "hostPathVolumes",
    level: "baseline",
    overlap: true,
    versions: [{ minimumMinor: 0, checkPod: hostPathVolumes_1_0 }],
  },
  { id: "hostPorts", level: "baseline", versions: [{ minimumMinor: 0, checkPod: hostPorts_1_0 }] },
  {
    id: "hostProbesAndHostLifecycle",
    level: "baseline",
    versions: [{ minimumMinor: 34, checkPod: hostProbesAndHostLifecycle_1_34 }],
  },
  { id: "privileged", level: "baseline", versions: [{ minimumMinor: 0, checkPod: privileged_1_0 }] },
  { id: "procMount", level: "baseline", versions: [{ minimumMinor: 0, checkPod: procMount_1_0 }] },
  { id: "restrictedVolumes", level: "restricted", versions: [{ minimumMinor: 0, checkPod: restrictedVolumes_1_0 }] },
  { id: "runAsNonRoot", level: "restricted", versions: [{ minimumMinor: 0, checkPod: runAsNonRoot_1_0 }] },
  { id: "runAsUser", level: "restricted", versions: [{ minimumMinor: 23, checkPod: runAsUser_1_23 }] },
  {
    id: "seLinuxOptions",
    level: "baseline",
    versions: [
      { minimumMinor: 0, checkPod: seLinuxOptionsCheck(SELINUX_TYPES_1_0) },
      { minimumMinor: 31, checkPod: seLinuxOptionsCheck(SELINUX_TYPES_1_31) },
    ],
  },
  {
    id: "seccompProfile_baseline",
    level: "baseline",
    overlap: true,
    versions: [
      { minimumMinor: 0, checkPod: seccompProfileBaseline_1_0 },
      { minimumMinor: 19, checkPod: seccompProfileBaseline_1_19 },
    ],
  },
  {
    id: "seccompProfile_restricted",
    level: "restricted",
    versions: [
      { minimumMinor: 19, checkPod: seccompProfileRestrictedCheck(false) },
      { minimumMinor: 25, checkPod: seccompProfileRestrictedCheck(true) },
    ],
  },
  {
    id: "sysctls",
    level: "baseline",
    versions: [
      { minimumMinor: 0, checkPod: sysctlsCheck(SYSCTLS_1_0) },
      { minimumMinor: 27, checkPod: sysctlsCheck(SYSCTLS_1_27) },
      { minimumMinor: 29, checkPod: sysctlsCheck(SYSCTLS_1_29) },
      { minimumMinor: 32, checkPod: sysctlsCheck(SYSCTLS_1_32) },
    ],
  },
  { id: "windowsHostProcess", level: "baseline", versions: [{ minimumMinor: 0, checkPod: windowsHostProcess_1_0 }] },
];
