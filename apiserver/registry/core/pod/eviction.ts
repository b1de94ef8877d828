// pods/eviction (upstream pkg/registry/core/pod/storage/eviction.go, EvictionREST.Create): a
// policy/v1 Eviction deletes the pod with the eviction's DeleteOptions. Upstream first checks the
// PodDisruptionBudgets that cover the pod; kubeling has none yet, and with no matching budget
// upstream deletes at once, so that is what this does. PDB checks belong here when they land.

import { badRequest, type Status } from "#pkg/api/errors.js";
import type { DeleteOptions, KubeObject } from "#pkg/api/meta.js";
import type { RequestContext, StoreView } from "../../../http/types.js";

/** An Eviction as decoded (metadata checked against the URL's namespace by checkObject). */
export interface Eviction extends KubeObject {
  deleteOptions?: DeleteOptions | null;
}

export async function evictPod(
  pods: Pick<StoreView, "delete">,
  ns: string,
  name: string,
  eviction: Eviction,
  options: DeleteOptions,
  ctx: RequestContext,
): Promise<Status> {
  if (eviction.metadata.name && eviction.metadata.name !== name) {
    throw badRequest("name in URL does not match name in Eviction object");
  }
  await pods.delete(ns, name, options, ctx);
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };
}
