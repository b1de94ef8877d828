// ControllerRevisions as the DaemonSet and StatefulSet controllers keep them (upstream
// pkg/controller/history/controller_history.go and the two controllers' getPatch): each revision
// holds a strategic merge patch that puts one pod template back, `{"spec":{"template":{...,
// "$patch":"replace"}}}`, which is also what `kubectl rollout undo` sends. The patch is built from
// the template as Go's typed client serialises it (metadata.creationTimestamp null, every
// container's resources at least {}) with keys sorted, so kubectl's byte comparison of a live
// object's patch against a revision's data (its "skipped rollback" check) agrees with ours.

import { isNotFound } from "#pkg/api/errors.js";
import type { Selector } from "#pkg/api/labels.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { CONTROLLERREVISIONS } from "#pkg/api/resources.js";
import { canonicalJSON } from "#pkg/api/template-patch.js";
import type { ControllerRevision } from "#pkg/api/types/apps.js";
import type { ApiClient } from "#pkg/client/client.js";
import { controllerRef, newControllerRef } from "#pkg/controller/owners.js";
import { claimObjects, recheckDeletionTimestamp } from "#pkg/controller/ref-manager.js";
import { fnv32a, safeEncodeString } from "../deployment/hash.js";

export { sameData, sortedJSON, templatePatch, typedTemplate } from "#pkg/api/template-patch.js";

/** Upstream apps.ControllerRevisionHashLabelKey (= DefaultDaemonSetUniqueLabelKey). */
export const CONTROLLER_REVISION_HASH_LABEL = "controller-revision-hash";

/** Upstream's limit on the name prefix of a revision (ControllerRevisionName). */
const MAX_PREFIX = 223;

/** HashControllerRevision: FNV-1a over the data (and the collision count), upstream's alphabet. */
export function hashRevisionData(data: unknown, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(canonicalJSON(data ?? null)));
  if (collisionCount !== undefined) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(bytes, h);
  }
  return safeEncodeString(String(h));
}

/** ControllerRevisionName: "<prefix>-<hash>", the prefix cut to 223 characters. */
export function revisionName(prefix: string, hash: string): string {
  return `${prefix.length > MAX_PREFIX ? prefix.slice(0, MAX_PREFIX) : prefix}-${hash}`;
}

/** Oldest first; equal revisions by creation time, then name (upstream history.SortControllerRevisions). */
export function sortRevisions(revisions: readonly ControllerRevision[]): ControllerRevision[] {
  return [...revisions].sort(
    (a, b) =>
      (a.revision ?? 0) - (b.revision ?? 0) ||
      (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") ||
      (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
  );
}

/** The highest revision number, 0 for none (upstream maxRevision). */
export function maxRevision(revisions: readonly ControllerRevision[]): number {
  return revisions.reduce((m, r) => Math.max(m, r.revision ?? 0), 0);
}

/**
 * claimRevisions (upstream ClaimControllerRevisions): the revisions `owner` controls after
 * adopting matching orphans and releasing owned ones its selector no longer matches, both by
 * strategic merge patches of ownerReferences (merge key uid).
 */
export function claimRevisions(
  client: ApiClient,
  owner: KubeObject,
  selector: Selector,
  revisions: readonly ControllerRevision[],
  getFreshOwner: () => Promise<KubeObject>,
): Promise<ControllerRevision[]> {
  return claimObjects(revisions, {
    owner,
    selector,
    canAdopt: recheckDeletionTimestamp(owner, getFreshOwner),
    adopt: (cr) =>
      client.patch(
        CONTROLLERREVISIONS,
        cr.metadata.namespace,
        cr.metadata.name ?? "",
        { metadata: { ownerReferences: [newControllerRef(owner)], uid: cr.metadata.uid } },
        "strategic",
      ),
    release: async (cr) => {
      try {
        await client.patch(
          CONTROLLERREVISIONS,
          cr.metadata.namespace,
          cr.metadata.name ?? "",
          { metadata: { ownerReferences: [{ $patch: "delete", uid: owner.metadata.uid }], uid: cr.metadata.uid } },
          "strategic",
        );
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
  });
}

/** The revisions of namespace ns that name `uid` as their controller or have no controller. */
export function candidateRevisions(all: readonly ControllerRevision[], uid: string | undefined): ControllerRevision[] {
  return all.filter((cr) => {
    const ref = controllerRef(cr);
    return !ref || ref.uid === uid;
  });
}
