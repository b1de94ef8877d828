import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ObjectMeta } from "#pkg/api/meta.js";
import type { Container, PodSpec } from "#pkg/api/types/core.js";
import { LATEST, type Level, type LevelVersion, policyToEvaluate, v1 } from "./api.js";
import { evaluate, forbiddenDetail, forbiddenReason } from "./evaluator.js";

const at = (level: Level, version = LATEST): LevelVersion => ({ level, version });

/** A container restricted admits: non-root, no escalation, ALL dropped, RuntimeDefault seccomp. */
const restrictedContainer = (name = "c", over: Partial<Container> = {}): Container => ({
  name,
  image: "busybox",
  securityContext: {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  },
  ...over,
});

const plain: PodSpec = { containers: [{ name: "c", image: "busybox" }] };

function detail(level: Level, spec: PodSpec, meta?: ObjectMeta, version = LATEST): string {
  const r = evaluate(at(level, version), meta, spec);
  return r.allowed ? "" : forbiddenDetail(r);
}

describe("PodSecurity levels", () => {
  // Each row: a pod, and what each level says about it ("" = allowed).
  const rows: Array<{ name: string; spec: PodSpec; meta?: ObjectMeta; baseline: string; restricted: string }> = [
    {
      name: "a plain pod",
      spec: plain,
      baseline: "",
      restricted:
        'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), ' +
        'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), ' +
        'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), ' +
        'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    },
    { name: "a restricted pod", spec: { containers: [restrictedContainer()] }, baseline: "", restricted: "" },
    {
      name: "pod-level runAsNonRoot and seccomp cover the containers",
      spec: {
        securityContext: { runAsNonRoot: true, seccompProfile: { type: "Localhost", localhostProfile: "p.json" } },
        containers: [
          {
            name: "c",
            image: "busybox",
            securityContext: {
              allowPrivilegeEscalation: false,
              capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] },
            },
          },
        ],
      },
      baseline: "",
      restricted: "",
    },
    {
      name: "privileged",
      spec: {
        containers: [
          restrictedContainer("c", { securityContext: { ...restrictedContainer().securityContext, privileged: true } }),
        ],
      },
      baseline: 'privileged (container "c" must not set securityContext.privileged=true)',
      restricted: 'privileged (container "c" must not set securityContext.privileged=true)',
    },
    {
      name: "host namespaces",
      spec: { hostNetwork: true, hostPID: true, hostIPC: true, containers: [restrictedContainer()] },
      baseline: "host namespaces (hostIPC=true, hostNetwork=true, hostPID=true)",
      restricted: "host namespaces (hostIPC=true, hostNetwork=true, hostPID=true)",
    },
    {
      name: "host ports",
      spec: {
        containers: [
          restrictedContainer("a", {
            ports: [
              { containerPort: 80, hostPort: 8080 },
              { containerPort: 81, hostPort: 9090 },
            ],
          }),
          restrictedContainer("b", { ports: [{ containerPort: 80, hostPort: 8080 }] }),
        ],
      },
      baseline: 'hostPort (containers "a", "b" use hostPorts 8080, 9090)',
      restricted: 'hostPort (containers "a", "b" use hostPorts 8080, 9090)',
    },
    {
      name: "a hostPath volume: baseline's own check, superseded by restricted's volume types",
      spec: { volumes: [{ name: "host", hostPath: { path: "/" } }], containers: [restrictedContainer()] },
      baseline: 'hostPath volumes (volume "host")',
      restricted: 'restricted volume types (volume "host" uses restricted volume type "hostPath")',
    },
    {
      name: "volume types restricted allows",
      spec: {
        volumes: [
          { name: "a", emptyDir: {} },
          { name: "b", configMap: { name: "x" } },
          { name: "c", secret: { secretName: "s" } },
          { name: "d", persistentVolumeClaim: { claimName: "p" } },
          { name: "e", projected: { sources: [] } },
          { name: "f", downwardAPI: {} },
        ],
        containers: [restrictedContainer()],
      },
      baseline: "",
      restricted: "",
    },
    {
      name: "two restricted volume types",
      spec: {
        volumes: [
          { name: "n", nfs: { server: "s", path: "/" } },
          { name: "g", gitRepo: { repository: "https://example.com/r.git" } },
        ],
        containers: [restrictedContainer()],
      },
      baseline: "",
      restricted: 'restricted volume types (volumes "n", "g" use restricted volume types "gitRepo", "nfs")',
    },
    {
      name: "capabilities beyond the default set",
      spec: {
        containers: [
          restrictedContainer("c", {
            securityContext: {
              ...restrictedContainer().securityContext,
              capabilities: { drop: ["ALL"], add: ["SYS_ADMIN", "NET_ADMIN", "CHOWN"] },
            },
          }),
        ],
      },
      baseline:
        'non-default capabilities (container "c" must not include "NET_ADMIN", "SYS_ADMIN" in securityContext.capabilities.add)',
      restricted:
        'unrestricted capabilities (container "c" must not include "CHOWN", "NET_ADMIN", "SYS_ADMIN" in securityContext.capabilities.add)',
    },
    {
      name: "runAsNonRoot=false and runAsUser=0",
      spec: {
        securityContext: { runAsNonRoot: false, runAsUser: 0 },
        containers: [
          restrictedContainer("c", {
            securityContext: { ...restrictedContainer().securityContext, runAsNonRoot: false, runAsUser: 0 },
          }),
        ],
      },
      baseline: "",
      restricted:
        'runAsNonRoot != true (pod and container "c" must not set securityContext.runAsNonRoot=false), ' +
        'runAsUser=0 (pod and container "c" must not set runAsUser=0)',
    },
    {
      name: "seccomp Unconfined",
      spec: { securityContext: { seccompProfile: { type: "Unconfined" } }, containers: [restrictedContainer()] },
      baseline: 'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")',
      restricted: 'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")',
    },
    {
      name: "procMount Unmasked",
      spec: {
        containers: [
          restrictedContainer("c", {
            securityContext: { ...restrictedContainer().securityContext, procMount: "Unmasked" },
          }),
        ],
      },
      baseline: 'procMount (container "c" must not set securityContext.procMount to "Unmasked")',
      restricted: 'procMount (container "c" must not set securityContext.procMount to "Unmasked")',
    },
    {
      name: "sysctls",
      spec: {
        securityContext: {
          sysctls: [
            { name: "kernel.msgmax", value: "1" },
            { name: "net.ipv4.tcp_syncookies", value: "1" },
            { name: "vm.swappiness", value: "1" },
          ],
        },
        containers: [restrictedContainer()],
      },
      baseline: "forbidden sysctls (kernel.msgmax, vm.swappiness)",
      restricted: "forbidden sysctls (kernel.msgmax, vm.swappiness)",
    },
    {
      name: "AppArmor: Unconfined field and annotation",
      meta: { annotations: { "container.apparmor.security.beta.kubernetes.io/c": "unconfined" } },
      spec: {
        containers: [
          restrictedContainer("c", {
            securityContext: { ...restrictedContainer().securityContext, appArmorProfile: { type: "Unconfined" } },
          }),
        ],
      },
      baseline:
        'forbidden AppArmor profiles (container "c" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/c="unconfined"")',
      restricted:
        'forbidden AppArmor profiles (container "c" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/c="unconfined"")',
    },
    {
      name: "SELinux type, user and role",
      spec: {
        securityContext: { seLinuxOptions: { type: "spc_t", user: "u", role: "r" } },
        containers: [restrictedContainer()],
      },
      baseline:
        'seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set)',
      restricted:
        'seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set)',
    },
    {
      name: "windows hostProcess",
      spec: { securityContext: { windowsOptions: { hostProcess: true } }, containers: [restrictedContainer()] },
      baseline: "hostProcess (pod must not set securityContext.windowsOptions.hostProcess=true)",
      restricted: "hostProcess (pod must not set securityContext.windowsOptions.hostProcess=true)",
    },
    {
      name: "probe and lifecycle hosts",
      spec: {
        containers: [
          restrictedContainer("c", {
            livenessProbe: { httpGet: { port: 80, host: "10.0.0.1" } },
            lifecycle: { preStop: { tcpSocket: { port: 80, host: "example.com" } } },
          }),
        ],
      },
      baseline: 'probe or lifecycle host (container "c" uses probe or lifecycle hosts "10.0.0.1", "example.com")',
      restricted: 'probe or lifecycle host (container "c" uses probe or lifecycle hosts "10.0.0.1", "example.com")',
    },
  ];

  for (const row of rows) {
    test(row.name, () => {
      assert.equal(detail("privileged", row.spec, row.meta), "", "privileged allows everything");
      assert.equal(detail("baseline", row.spec, row.meta), row.baseline, "baseline");
      assert.equal(detail("restricted", row.spec, row.meta), row.restricted, "restricted");
    });
  }

  test("a privileged pod breaks restricted in upstream's order, with short reasons for namespace warnings", () => {
    const spec: PodSpec = {
      hostNetwork: true,
      volumes: [{ name: "host", hostPath: { path: "/" } }],
      containers: [{ name: "c", image: "busybox", securityContext: { privileged: true } }],
    };
    const r = evaluate(at("restricted"), undefined, spec);
    assert.equal(
      forbiddenReason(r),
      "host namespaces, privileged, allowPrivilegeEscalation != false, unrestricted capabilities, restricted volume types, runAsNonRoot != true, seccompProfile",
    );
    assert.equal(
      forbiddenReason(evaluate(at("baseline"), undefined, spec)),
      "host namespaces, privileged, hostPath volumes",
    );
  });

  test("init and ephemeral containers are checked too, in upstream's visiting order", () => {
    const spec: PodSpec = {
      initContainers: [{ name: "init", image: "x", securityContext: { privileged: true } }],
      containers: [{ name: "app", image: "x", securityContext: { privileged: true } }],
      ephemeralContainers: [{ name: "debug", image: "x", securityContext: { privileged: true } }],
    };
    assert.equal(
      detail("baseline", spec),
      'privileged (containers "init", "app", "debug" must not set securityContext.privileged=true)',
    );
  });

  test("versions: a check applies from its minimum version, later versions relax or tighten", () => {
    const rootUser: PodSpec = { securityContext: { runAsUser: 0 }, containers: [restrictedContainer()] };
    assert.equal(detail("restricted", rootUser, undefined, v1(22)), "");
    assert.equal(detail("restricted", rootUser, undefined, v1(23)), "runAsUser=0 (pod must not set runAsUser=0)");
    // capabilities_restricted starts at 1.22, seccompProfile_restricted at 1.19.
    assert.match(
      detail("restricted", plain, undefined, v1(21)),
      /^allowPrivilegeEscalation != false \([^)]*\), runAsNonRoot != true \([^)]*\), seccompProfile/,
    );
    // net.ipv4.tcp_keepalive_time is safe from 1.29.
    const keepalive: PodSpec = {
      securityContext: { sysctls: [{ name: "net.ipv4.tcp_keepalive_time", value: "1" }] },
      containers: [],
    };
    assert.equal(detail("baseline", keepalive, undefined, v1(28)), "forbidden sysctls (net.ipv4.tcp_keepalive_time)");
    assert.equal(detail("baseline", keepalive, undefined, v1(29)), "");
    // Probe hosts are checked from 1.34 only; a version beyond every check's evaluates as latest.
    const probeHost: PodSpec = { containers: [{ name: "c", livenessProbe: { tcpSocket: { port: 1, host: "h" } } }] };
    assert.equal(detail("baseline", probeHost, undefined, v1(33)), "");
    assert.notEqual(detail("baseline", probeHost, undefined, v1(99)), "");
  });

  test("windows pods skip restricted's Linux-only checks from 1.25", () => {
    const win: PodSpec = {
      os: { name: "windows" },
      securityContext: { runAsNonRoot: true },
      containers: [{ name: "c" }],
    };
    assert.equal(detail("restricted", win), "");
    assert.match(detail("restricted", win, undefined, v1(24)), /allowPrivilegeEscalation/);
  });

  test("seccomp annotations are baseline's check before 1.19", () => {
    const meta = { annotations: { "seccomp.security.alpha.kubernetes.io/pod": "unconfined" } };
    assert.equal(
      detail("baseline", plain, meta, v1(18)),
      'seccompProfile (forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined")',
    );
    assert.equal(detail("baseline", plain, meta, v1(19)), "");
  });
});

describe("PodSecurity namespace labels", () => {
  test("unset labels default to privileged:latest; versions parse as upstream", () => {
    const { policy, errors } = policyToEvaluate({
      "pod-security.kubernetes.io/enforce": "baseline",
      "pod-security.kubernetes.io/enforce-version": "v1.25",
      "pod-security.kubernetes.io/warn": "restricted",
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(policy.enforce, { level: "baseline", version: v1(25) });
    assert.deepEqual(policy.warn, { level: "restricted", version: LATEST });
    assert.deepEqual(policy.audit, { level: "privileged", version: LATEST });
  });

  test("bad labels: errors, enforce fails closed, warn and audit fail open", () => {
    const { policy, errors } = policyToEvaluate({
      "pod-security.kubernetes.io/enforce": "strict",
      "pod-security.kubernetes.io/warn": "nope",
      "pod-security.kubernetes.io/audit-version": "1.25",
    });
    assert.equal(policy.enforce.level, "restricted");
    assert.equal(policy.warn.level, "privileged");
    assert.deepEqual(
      errors.map((e) => `${e.field}: ${e.message}`),
      [
        'metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
        'metadata.labels[pod-security.kubernetes.io/audit-version]: Invalid value: "1.25": must be "latest" or "v1.x"',
        'metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "nope": must be one of privileged, baseline, restricted',
      ],
    );
  });
});
