// NamespaceLifecycle (upstream apiserver/pkg/admission/plugin/namespace/lifecycle): the immortal
// namespaces (default, kube-system, kube-public) may not be deleted; nothing namespaced is
// written into a namespace that does not exist, and nothing new is created in one that is being
// terminated. Namespaces themselves, cluster-scoped kinds and deletes of other objects pass.

import { notFound } from "#pkg/api/errors.js";
import {
  IMMORTAL_NAMESPACES,
  immortalNamespaceError,
  isTerminating,
  terminatingNamespaceError,
} from "../../registry/core/namespace/lifecycle.js";
import type { Attributes, Operation } from "../attributes.js";
import type { AdmissionPlugin } from "../chain.js";
import type { AdmissionContext } from "../context.js";
import { resourceNameOf } from "../errors.js";

export const NAMESPACE_LIFECYCLE = "NamespaceLifecycle";

const isNamespaceKind = (a: Attributes) => a.kind.group === "" && a.kind.kind === "Namespace";

export function newNamespaceLifecycle(ctx: AdmissionContext): AdmissionPlugin {
  return {
    name: NAMESPACE_LIFECYCLE,
    handles: (op: Operation) => op === "CREATE" || op === "UPDATE" || op === "DELETE",
    async admit(a) {
      if (a.operation === "DELETE" && isNamespaceKind(a) && IMMORTAL_NAMESPACES.has(a.name)) {
        throw immortalNamespaceError(a.name);
      }
      if (isNamespaceKind(a) || a.namespace === "" || a.operation === "DELETE") return;
      const ns = await ctx.getNamespace(a.namespace);
      if (!ns) throw notFound({ group: "", resource: "namespaces" }, a.namespace);
      if (a.operation === "CREATE" && isTerminating(ns)) {
        throw terminatingNamespaceError(a.resource, resourceNameOf(a), a.namespace);
      }
    },
  };
}
