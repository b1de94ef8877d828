// autoscaling/v1 Scale (k8s.io/api/autoscaling/v1 types.go): the body of the scale subresource of
// Deployments, ReplicaSets, StatefulSets and ReplicationControllers.

import type { KubeObject } from "../meta.js";
import { Int, Obj, Opt, Str } from "../schema/helpers.js";
import { type KindBody, KindSchema } from "./meta.js";

export const ScaleSchema = KindSchema("Scale", {
  spec: Opt(Obj({ replicas: Opt(Int("desired number of instances for the scaled object.")) })),
  status: Opt(
    Obj({
      replicas: Int("actual number of observed instances of the scaled object."),
      selector: Opt(Str("label query over pods that should match the replicas count, in label-selector string form.")),
    }),
  ),
});
export interface Scale extends KubeObject, KindBody<typeof ScaleSchema> {}
