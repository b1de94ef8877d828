// core/v1 Node (upstream pkg/registry/core/node/strategy.go, printers.go).

import { type FieldError, fieldForbidden, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { Node } from "#pkg/api/types/core.js";
import { qualifiedNameErrors, validateQuantity } from "#pkg/api/validation.js";
import { age, ageCol, col, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";

const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;

function validateNode(node: Node): FieldError[] {
  const errs: FieldError[] = [];
  (node.spec?.taints ?? []).forEach((t, i) => {
    const p = `spec.taints[${i}]`;
    if (!t.key) errs.push(fieldRequired(`${p}.key`));
    else for (const m of qualifiedNameErrors(t.key)) errs.push(fieldInvalid(`${p}.key`, t.key, m));
    if (!t.effect) errs.push(fieldRequired(`${p}.effect`));
    else if (!(TAINT_EFFECTS as readonly string[]).includes(t.effect)) {
      errs.push(fieldNotSupported(`${p}.effect`, t.effect, TAINT_EFFECTS));
    }
  });
  for (const kind of ["capacity", "allocatable"] as const) {
    for (const [k, q] of Object.entries(node.status?.[kind] ?? {})) {
      errs.push(...validateQuantity(q, `status.${kind}[${k}]`));
    }
  }
  return errs;
}

function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith("node-role.kubernetes.io/")) {
      const role = k.slice("node-role.kubernetes.io/".length);
      if (role) roles.add(role);
    } else if (k === "kubernetes.io/role" && v) roles.add(v);
  }
  return [...roles].sort();
}

export function nodeStatusCell(node: Node): string {
  const ready = (node.status?.conditions ?? []).find((c) => c.type === "Ready");
  const parts = [ready ? (ready.status === "True" ? "Ready" : "NotReady") : "Unknown"];
  if (node.spec?.unschedulable) parts.push("SchedulingDisabled");
  return parts.join(",");
}

export function nodeStrategy(r: ResourceInfo): Strategy<Node> {
  const addr = (n: Node, t: string) => (n.status?.addresses ?? []).find((a) => a.type === t)?.address ?? "<none>";
  return makeStrategy<Node>(
    r,
    {
      validate: validateNode,
      validateUpdate(node, old) {
        const errs = validateNode(node);
        const oldCIDR = old.spec?.podCIDR;
        if (oldCIDR && node.spec?.podCIDR !== oldCIDR) {
          errs.push(fieldForbidden("spec.podCIDR", 'node updates may not change podCIDR except from "" to valid'));
        }
        return errs;
      },
      selectableFields: (n) => ({ "spec.unschedulable": String(n.spec?.unschedulable === true) }),
      columns: [
        nameCol(),
        col("Status", "string", "The status of the node"),
        col("Roles", "string", "The roles of the node"),
        ageCol(),
        col("Version", "string", "Kubelet Version reported by the node."),
        col("Internal-IP", "string", "List of addresses reachable to the node.", 1),
        col("External-IP", "string", "List of addresses reachable to the node.", 1),
        col(
          "OS-Image",
          "string",
          "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
          1,
        ),
        col(
          "Kernel-Version",
          "string",
          "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
          1,
        ),
        col(
          "Container-Runtime",
          "string",
          "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
          1,
        ),
      ],
      row: (n, now) => {
        const info = n.status?.nodeInfo;
        return [
          n.metadata.name ?? "",
          nodeStatusCell(n),
          nodeRoles(n).join(",") || "<none>",
          age(n, now),
          info?.kubeletVersion ?? "",
          addr(n, "InternalIP"),
          addr(n, "ExternalIP"),
          info?.osImage || "<unknown>",
          info?.kernelVersion || "<unknown>",
          info?.containerRuntimeVersion || "<unknown>",
        ];
      },
    },
    // Kubelets register nodes with their status: upstream keeps it on create.
    { keepStatusOnCreate: true },
  );
}
