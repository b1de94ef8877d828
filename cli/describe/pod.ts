// describe pod (and the pod template part of workload describers), after kubectl's
// describePod / describeContainers / DescribePodTemplate.

import type {
  Container,
  ContainerState,
  ContainerStatus,
  Pod,
  PodTemplateSpec,
  Toleration,
  Volume,
} from "#pkg/api/types/index.js";
import { rfc1123z } from "../format.js";
import { annotationsMultiline, labelsMultiline, type PrefixWriter } from "./writer.js";

function portsString(c: Container, host: boolean): string {
  const ports = c.ports ?? [];
  if (ports.length === 0) return "<none>";
  return ports.map((p) => `${host ? (p.hostPort ?? 0) : p.containerPort}/${p.protocol ?? "TCP"}`).join(", ");
}

function describeState(w: PrefixWriter, title: string, state: ContainerState | undefined): void {
  if (state?.running) {
    w.write(2, `${title}:\tRunning\n`);
    w.write(3, `Started:\t${rfc1123z(state.running.startedAt)}\n`);
  } else if (state?.waiting) {
    w.write(2, `${title}:\tWaiting\n`);
    if (state.waiting.reason) w.write(3, `Reason:\t${state.waiting.reason}\n`);
  } else if (state?.terminated) {
    const t = state.terminated;
    w.write(2, `${title}:\tTerminated\n`);
    if (t.reason) w.write(3, `Reason:\t${t.reason}\n`);
    if (t.message) w.write(3, `Message:\t${t.message}\n`);
    w.write(3, `Exit Code:\t${t.exitCode}\n`);
    if (t.signal) w.write(3, `Signal:\t${t.signal}\n`);
    w.write(3, `Started:\t${rfc1123z(t.startedAt)}\n`);
    w.write(3, `Finished:\t${rfc1123z(t.finishedAt)}\n`);
  } else {
    w.write(2, `${title}:\tWaiting\n`);
  }
}

function resourceList(w: PrefixWriter, title: string, list: Record<string, unknown> | undefined): void {
  const keys = Object.keys(list ?? {}).sort();
  if (keys.length === 0) return;
  w.write(2, `${title}:\n`);
  for (const k of keys) w.write(3, `${k}:\t${String(list?.[k])}\n`);
}

function envValue(e: NonNullable<Container["env"]>[number]): string {
  if (e.value !== undefined) return e.value;
  const vf = e.valueFrom;
  if (vf?.fieldRef) return `(${vf.fieldRef.apiVersion ?? "v1"}:${vf.fieldRef.fieldPath})`;
  if (vf?.resourceFieldRef) return `${vf.resourceFieldRef.resource} (${vf.resourceFieldRef.containerName ?? ""})`;
  if (vf?.secretKeyRef) return `<set to the key '${vf.secretKeyRef.key}' in secret '${vf.secretKeyRef.name}'>`;
  if (vf?.configMapKeyRef)
    return `<set to the key '${vf.configMapKeyRef.key}' of config map '${vf.configMapKeyRef.name}'>`;
  return "";
}

/** kubectl's describeContainers: one block per container, with its status when known. */
export function describeContainers(
  w: PrefixWriter,
  label: string,
  containers: Container[],
  statuses: ContainerStatus[] | undefined,
  space = "",
): void {
  w.write(0, `${space}${label}:\n`);
  for (const c of containers) {
    const st = statuses?.find((s) => s.name === c.name);
    // kubectl indents template containers by one extra space only.
    w.write(1, `${space ? " " : ""}${c.name}:\n`);
    if (st) w.write(2, `Container ID:\t${st.containerID ?? ""}\n`);
    w.write(2, `Image:\t${c.image ?? ""}\n`);
    if (st) w.write(2, `Image ID:\t${st.imageID ?? ""}\n`);
    const ports = portsString(c, false);
    w.write(2, `${ports.includes(",") ? "Ports" : "Port"}:\t${ports}\n`);
    const hostPorts = portsString(c, true);
    w.write(2, `${hostPorts.includes(",") ? "Host Ports" : "Host Port"}:\t${hostPorts}\n`);
    if (c.command?.length) {
      w.write(2, "Command:\n");
      for (const s of c.command) w.write(3, `${s}\n`);
    }
    if (c.args?.length) {
      w.write(2, "Args:\n");
      for (const s of c.args) w.write(3, `${s}\n`);
    }
    if (st) {
      describeState(w, "State", st.state);
      if (st.lastState?.terminated) describeState(w, "Last State", st.lastState);
      w.write(2, `Ready:\t${st.ready ? "True" : "False"}\n`);
      w.write(2, `Restart Count:\t${st.restartCount}\n`);
    }
    resourceList(w, "Limits", c.resources?.limits as Record<string, unknown> | undefined);
    resourceList(w, "Requests", c.resources?.requests as Record<string, unknown> | undefined);
    for (const [title, p] of [
      ["Liveness", c.livenessProbe],
      ["Readiness", c.readinessProbe],
      ["Startup", c.startupProbe],
    ] as const) {
      if (!p) continue;
      const how = p.httpGet
        ? `http-get ${p.httpGet.scheme === "HTTPS" ? "https" : "http"}://${p.httpGet.host ?? ""}:${String(p.httpGet.port)}${p.httpGet.path ?? "/"}`
        : p.tcpSocket
          ? `tcp-socket ${p.tcpSocket.host ?? ""}:${String(p.tcpSocket.port)}`
          : p.exec
            ? `exec [${(p.exec.command ?? []).join(" ")}]`
            : "unknown";
      w.write(
        2,
        `${title}:\t${how} delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 1}s period=${p.periodSeconds ?? 10}s #success=${p.successThreshold ?? 1} #failure=${p.failureThreshold ?? 3}\n`,
      );
    }
    const env = c.env ?? [];
    if (env.length === 0) w.write(2, "Environment:\t<none>\n");
    else {
      w.write(2, "Environment:\n");
      for (const e of env) w.write(3, `${e.name}:\t${envValue(e)}\n`);
    }
    const mounts = c.volumeMounts ?? [];
    if (mounts.length === 0) w.write(2, "Mounts:\t<none>\n");
    else {
      w.write(2, "Mounts:\n");
      for (const m of [...mounts].sort((a, b) => a.mountPath.localeCompare(b.mountPath))) {
        w.write(
          3,
          `${m.mountPath} from ${m.name} (${m.readOnly ? "ro" : "rw"}${m.subPath ? `,path="${m.subPath}"` : ""})\n`,
        );
      }
    }
  }
}

function describeVolumes(w: PrefixWriter, volumes: Volume[] | undefined, space = ""): void {
  if (!volumes || volumes.length === 0) {
    w.write(0, `${space}Volumes:\t<none>\n`);
    return;
  }
  w.write(0, `${space}Volumes:\n`);
  for (const v of volumes) {
    w.write(1, `${space}${v.name}:\n`);
    if (v.emptyDir) {
      w.write(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n");
      w.write(2, `Medium:\t${v.emptyDir.medium ?? ""}\n`);
      w.write(2, `SizeLimit:\t${v.emptyDir.sizeLimit ? String(v.emptyDir.sizeLimit) : "<unset>"}\n`);
    } else if (v.hostPath) {
      w.write(2, "Type:\tHostPath (bare host directory volume)\n");
      w.write(2, `Path:\t${v.hostPath.path}\n`);
      w.write(2, `HostPathType:\t${v.hostPath.type ?? ""}\n`);
    } else if (v.configMap) {
      w.write(2, "Type:\tConfigMap (a volume populated by a ConfigMap)\n");
      w.write(2, `Name:\t${v.configMap.name ?? ""}\n`);
      w.write(2, `Optional:\t${v.configMap.optional ?? false}\n`);
    } else if (v.secret) {
      w.write(2, "Type:\tSecret (a volume populated by a Secret)\n");
      w.write(2, `SecretName:\t${v.secret.secretName ?? ""}\n`);
      w.write(2, `Optional:\t${v.secret.optional ?? false}\n`);
    } else if (v.persistentVolumeClaim) {
      w.write(2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)\n");
      w.write(2, `ClaimName:\t${v.persistentVolumeClaim.claimName}\n`);
      w.write(2, `ReadOnly:\t${v.persistentVolumeClaim.readOnly ?? false}\n`);
    } else if (v.projected) {
      w.write(2, "Type:\tProjected (a volume that contains injected data from multiple sources)\n");
    } else {
      w.write(2, "Type:\t<unknown>\n");
    }
  }
}

function tolerationsMultiline(w: PrefixWriter, level: number, tolerations: Toleration[] | undefined): void {
  if (!tolerations || tolerations.length === 0) {
    w.write(level, "Tolerations:\t<none>\n");
    return;
  }
  tolerations.forEach((t, i) => {
    let s = t.key ?? "";
    if (t.value) s += `=${t.value}`;
    if (t.operator === "Exists" && !t.key) s = "op=Exists";
    else if (t.operator === "Exists") s += " op=Exists";
    if (t.effect) s += `:${t.effect}`;
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null) s += ` for ${t.tolerationSeconds}s`;
    w.write(level, i === 0 ? `Tolerations:\t${s}\n` : `\t${s}\n`);
  });
}

function qosClass(pod: Pod): string {
  if (pod.status?.qosClass) return pod.status.qosClass;
  const cs = pod.spec?.containers ?? [];
  const anyReq = cs.some(
    (c) => Object.keys(c.resources?.requests ?? {}).length + Object.keys(c.resources?.limits ?? {}).length > 0,
  );
  return anyReq ? "Burstable" : "BestEffort";
}

export function describePod(w: PrefixWriter, pod: Pod): void {
  const m = pod.metadata;
  const spec = pod.spec;
  const status = pod.status;
  w.write(0, `Name:\t${m.name ?? ""}\n`);
  w.write(0, `Namespace:\t${m.namespace ?? ""}\n`);
  if (spec?.priority !== undefined) w.write(0, `Priority:\t${spec.priority}\n`);
  if (spec?.priorityClassName) w.write(0, `Priority Class Name:\t${spec.priorityClassName}\n`);
  w.write(0, `Service Account:\t${spec?.serviceAccountName ?? ""}\n`);
  if (!spec?.nodeName) w.write(0, "Node:\t<none>\n");
  else w.write(0, `Node:\t${spec.nodeName}/${status?.hostIP ?? ""}\n`);
  if (status?.startTime) w.write(0, `Start Time:\t${rfc1123z(status.startTime)}\n`);
  labelsMultiline(w, 0, "Labels", m.labels);
  annotationsMultiline(w, 0, "Annotations", m.annotations);
  if (m.deletionTimestamp) {
    w.write(0, `Status:\tTerminating (lasts ${m.deletionTimestamp})\n`);
    w.write(0, `Termination Grace Period:\t${m.deletionGracePeriodSeconds ?? 0}s\n`);
  } else {
    w.write(0, `Status:\t${status?.phase ?? ""}\n`);
  }
  if (status?.reason) w.write(0, `Reason:\t${status.reason}\n`);
  if (status?.message) w.write(0, `Message:\t${status.message}\n`);
  w.write(0, `IP:\t${status?.podIP ?? ""}\n`);
  const ips = status?.podIPs ?? [];
  if (ips.length === 0) w.write(0, "IPs:\t<none>\n");
  else {
    w.write(0, "IPs:\n");
    for (const ip of ips) w.write(1, `IP:\t${ip.ip}\n`);
  }
  const controller = m.ownerReferences?.find((o) => o.controller);
  if (controller) w.write(0, `Controlled By:\t${controller.kind}/${controller.name}\n`);
  if (status?.nominatedNodeName) w.write(0, `NominatedNodeName:\t${status.nominatedNodeName}\n`);
  if (spec?.initContainers?.length)
    describeContainers(w, "Init Containers", spec.initContainers, status?.initContainerStatuses);
  describeContainers(w, "Containers", spec?.containers ?? [], status?.containerStatuses);
  // kubectl describes ephemeral containers as the Containers they embed (EphemeralContainerCommon).
  if (spec?.ephemeralContainers?.length)
    describeContainers(
      w,
      "Ephemeral Containers",
      spec.ephemeralContainers.map(({ targetContainerName: _t, ...c }) => c),
      status?.ephemeralContainerStatuses,
    );
  const conditions = status?.conditions ?? [];
  if (conditions.length > 0) {
    w.write(0, "Conditions:\n  Type\tStatus\n");
    for (const c of conditions) w.write(1, `${c.type} \t${c.status} \n`);
  }
  describeVolumes(w, spec?.volumes);
  w.write(0, `QoS Class:\t${qosClass(pod)}\n`);
  labelsMultiline(w, 0, "Node-Selectors", spec?.nodeSelector);
  tolerationsMultiline(w, 0, spec?.tolerations);
}

/** kubectl's DescribePodTemplate, used by deployment/replicaset describers. */
export function describePodTemplate(w: PrefixWriter, template: PodTemplateSpec | undefined): void {
  w.write(0, "Pod Template:\n");
  if (!template) {
    w.write(1, "<unset>");
    return;
  }
  labelsMultiline(w, 1, "Labels", template.metadata?.labels);
  const ann = template.metadata?.annotations;
  if (ann && Object.keys(ann).length > 0) annotationsMultiline(w, 1, "Annotations", ann);
  if (template.spec?.serviceAccountName) w.write(1, `Service Account:\t${template.spec.serviceAccountName}\n`);
  if (template.spec?.initContainers?.length) {
    describeContainers(w, "Init Containers", template.spec.initContainers, undefined, "  ");
  }
  describeContainers(w, "Containers", template.spec?.containers ?? [], undefined, "  ");
  describeVolumes(w, template.spec?.volumes, "  ");
  labelsMultiline(w, 1, "Node-Selectors", template.spec?.nodeSelector);
  tolerationsMultiline(w, 1, template.spec?.tolerations);
}
