// core/v1 Namespace (upstream pkg/registry/core/namespace/strategy.go, printers.go).

import { type FieldError, fieldInvalid, fieldNotSupported } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import { metaTime } from "#pkg/api/time.js";
import type { Namespace } from "#pkg/api/types/core.js";
import { nameIsDNSLabel, qualifiedNameErrors } from "#pkg/api/validation.js";
import { DELETE, NO_CHANGE } from "../../../storage/interfaces.js";
import { age, ageCol, clone, col, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";
import { markTerminating, namespaceFinalized, prepareNamespaceForCreate } from "./lifecycle.js";

export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

export function namespaceStrategy(r: ResourceInfo): Strategy<Namespace> {
  return makeStrategy<Namespace>(r, {
    applyDefaults(ns) {
      // Upstream labels every namespace with its own name (immutable, for namespace selectors).
      if (ns.metadata.name) {
        ns.metadata.labels ??= {};
        ns.metadata.labels[NAMESPACE_NAME_LABEL] = ns.metadata.name;
      }
    },
    nameValidator: nameIsDNSLabel,
    prepareForCreate: prepareNamespaceForCreate,
    prepareForUpdate(ns, old) {
      // Finalizers change only through /finalize.
      ns.spec = clone(old.spec ?? {});
    },
    validateUpdate: (ns) => {
      const errs: FieldError[] = [];
      const phase = ns.status?.phase;
      if (phase !== undefined && !["Active", "Terminating"].includes(phase)) {
        errs.push(fieldNotSupported("status.phase", phase, ["Active", "Terminating"]));
      }
      (ns.spec?.finalizers ?? []).forEach((f, i) => {
        for (const m of qualifiedNameErrors(f)) errs.push(fieldInvalid(`spec.finalizers[${i}]`, f, m));
      });
      return errs;
    },
    prepareForFinalizeUpdate: prepareNamespaceFinalize,
    decideDelete(old, finalizers) {
      // Deleting marks the namespace Terminating; it goes once the namespace controller has
      // emptied it and removed spec.finalizers (through /finalize), or at once with none.
      if (old.metadata.deletionTimestamp !== undefined) return namespaceFinalized(old) ? DELETE : NO_CHANGE;
      if ((old.spec?.finalizers ?? []).length === 0 && finalizers.length === 0) return DELETE;
      const next = markTerminating(old, metaTime()) as Namespace;
      if (finalizers.length > 0) next.metadata.finalizers = finalizers;
      return next;
    },
    shouldDeleteDuringUpdate: namespaceFinalized,
    selectableFields: (ns) => ({ "status.phase": ns.status?.phase ?? "" }),
    columns: [nameCol(), col("Status", "string", "The status of the namespace"), ageCol()],
    row: (ns, now) => [ns.metadata.name ?? "", ns.status?.phase ?? "", age(ns, now)],
  });
}

/**
 * The namespaces/finalize endpoint changes spec.finalizers and nothing else (upstream
 * namespaceFinalizeStrategy): the stored object is the current one with the request's finalizers.
 */
export function prepareNamespaceFinalize(ns: Namespace, old: Namespace): Namespace {
  const kept = clone(old);
  kept.spec = { ...(kept.spec ?? {}), finalizers: ns.spec?.finalizers ?? [] };
  return kept;
}
