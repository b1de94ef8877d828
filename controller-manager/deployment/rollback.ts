// Server-side rollback (upstream pkg/controller/deployment/rollback.go) through the deprecated
// `deprecated.deployment.rollback.to` annotation (what extensions/v1beta1's rollback set): the
// Deployment takes the template and annotations of the ReplicaSet with that revision (0: the
// previous one) and the annotation is cleared. kubectl's `rollout undo` on apps/v1 does the same
// from the client, patching the template; either way the next sync finds that ReplicaSet as the
// new one and gives it the next revision.

import { DEPLOYMENTS } from "#pkg/api/resources.js";
import type { Deployment, ReplicaSet } from "#pkg/api/types/apps.js";
import { type DeploymentSyncContext, getAllReplicaSetsAndSyncRevision } from "./sync.js";
import {
  equalIgnoreHash,
  getRollbackTo,
  lastRevision,
  ROLLBACK_DONE,
  ROLLBACK_REVISION_NOT_FOUND,
  ROLLBACK_TEMPLATE_UNCHANGED,
  revision,
  setDeploymentAnnotationsTo,
  setFromReplicaSetTemplate,
  setRollbackTo,
} from "./util.js";

async function updateDeploymentAndClearRollbackTo(ctx: DeploymentSyncContext, d: Deployment): Promise<void> {
  setRollbackTo(d, undefined);
  const written = await ctx.client.update(DEPLOYMENTS, d.metadata.namespace, d);
  d.metadata.resourceVersion = written.metadata.resourceVersion;
}

/** rollbackToTemplate: true when the template changed (else a RollbackTemplateUnchanged warning). */
async function rollbackToTemplate(ctx: DeploymentSyncContext, d: Deployment, rs: ReplicaSet): Promise<boolean> {
  let performed = false;
  if (!equalIgnoreHash(d.spec?.template, rs.spec?.template)) {
    setFromReplicaSetTemplate(d, rs.spec?.template);
    // The Deployment takes the old ReplicaSet's annotations (change-cause...), else its current
    // ones would be copied onto that ReplicaSet by the next sync.
    setDeploymentAnnotationsTo(d, rs);
    performed = true;
  } else {
    ctx.recorder.event(
      d,
      "Warning",
      ROLLBACK_TEMPLATE_UNCHANGED,
      `The rollback revision contains the same template as current deployment ${JSON.stringify(d.metadata.name)}`,
    );
  }
  await updateDeploymentAndClearRollbackTo(ctx, d);
  return performed;
}

/** rollback carries out (or gives up) the rollback the Deployment's annotation asks for. */
export async function rollback(ctx: DeploymentSyncContext, d: Deployment, rsList: ReplicaSet[]): Promise<void> {
  const { newRS, oldRSs } = await getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true);
  const allRSs = newRS ? [...oldRSs, newRS] : oldRSs;
  const to = getRollbackTo(d);
  if (!to) return;
  let rev = to.revision;
  if (rev === 0) {
    rev = lastRevision(allRSs);
    if (rev === 0) {
      ctx.recorder.event(d, "Warning", ROLLBACK_REVISION_NOT_FOUND, "Unable to find last revision.");
      await updateDeploymentAndClearRollbackTo(ctx, d);
      return;
    }
  }
  for (const rs of allRSs) {
    if (revision(rs) !== rev) continue;
    // The revision number moves on when the next sync finds this ReplicaSet as the new one.
    if (await rollbackToTemplate(ctx, d, rs)) {
      ctx.recorder.event(
        d,
        "Normal",
        ROLLBACK_DONE,
        `Rolled back deployment ${JSON.stringify(d.metadata.name)} to revision ${rev}`,
      );
    }
    return;
  }
  ctx.recorder.event(d, "Warning", ROLLBACK_REVISION_NOT_FOUND, "Unable to find the revision to rollback to.");
  await updateDeploymentAndClearRollbackTo(ctx, d);
}
