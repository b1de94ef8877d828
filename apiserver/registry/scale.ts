// The scale subresource every scalable kind shares (upstream: the ScaleREST of
// pkg/registry/apps/deployment, replicaset and statefulset storage, and of
// core/replicationcontroller): an autoscaling/v1 Scale view of spec.replicas, written back
// through the kind's store as a main-endpoint update. status.selector is the kind's selector as
// a string: from a LabelSelector (apps) or from an equality map (ReplicationController).

import { badRequest, conflict, fieldInvalid, fieldRequired, invalid } from "#pkg/api/errors.js";
import { type LabelSelectorLike, selectorFromLabelSelector, selectorFromSet } from "#pkg/api/labels.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { applyPatch } from "../patch/index.js";
import { CONFLICT_MESSAGE } from "../storage/interfaces.js";
import type { PatchKind, RequestContext, ScaleSubresource, Store } from "./store.js";

interface ScalableShape {
  spec?: { replicas?: number; selector?: unknown };
  status?: { replicas?: number };
}

/** How a kind's spec.selector reads as a selector string. */
export type ScaleSelector = (selector: unknown) => string;

/** spec.selector is a metav1.LabelSelector (Deployment, ReplicaSet, StatefulSet). */
export const labelSelectorString: ScaleSelector = (sel) => {
  if (!sel) return "";
  try {
    return selectorFromLabelSelector(sel as LabelSelectorLike).toString();
  } catch {
    return "";
  }
};

/** spec.selector is an equality map (ReplicationController: labels.SelectorFromSet). */
export const setSelectorString: ScaleSelector = (sel) => {
  try {
    return selectorFromSet(sel as Record<string, string> | undefined).toString();
  } catch {
    return "";
  }
};

/** The Scale of a scalable object. */
export function toScale(obj: KubeObject, selectorOf: ScaleSelector = labelSelectorString): KubeObject {
  const o = obj as KubeObject & ScalableShape;
  const selector = selectorOf(o.spec?.selector);
  const metadata: KubeObject["metadata"] = { name: obj.metadata.name };
  if (obj.metadata.namespace) metadata.namespace = obj.metadata.namespace;
  if (obj.metadata.uid) metadata.uid = obj.metadata.uid;
  if (obj.metadata.resourceVersion) metadata.resourceVersion = obj.metadata.resourceVersion;
  if (obj.metadata.creationTimestamp) metadata.creationTimestamp = obj.metadata.creationTimestamp;
  return {
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    metadata,
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, selector },
  };
}

export class ScaleREST implements ScaleSubresource {
  constructor(
    private readonly store: Store,
    private readonly selectorOf: ScaleSelector = labelSelectorString,
  ) {}

  async get(ns: string, name: string): Promise<KubeObject> {
    return toScale(await this.store.get(ns, name), this.selectorOf);
  }

  update(ns: string, name: string, scale: KubeObject, ctx: RequestContext): Promise<KubeObject> {
    const replicas = (scale as ScalableShape).spec?.replicas;
    const rv = scale.metadata?.resourceVersion;
    return this.write(ns, name, ctx, () => ({ replicas, rv }));
  }

  patch(ns: string, name: string, kind: PatchKind, patch: unknown, ctx: RequestContext): Promise<KubeObject> {
    if (kind === "apply") throw badRequest("apply patches are not supported on the scale subresource");
    return this.write(ns, name, ctx, (cur) => {
      const patched = applyPatch(kind, toScale(cur, this.selectorOf), patch) as KubeObject & ScalableShape;
      return { replicas: patched.spec?.replicas, rv: patched.metadata?.resourceVersion };
    });
  }

  private async write(
    ns: string,
    name: string,
    ctx: RequestContext,
    compute: (cur: KubeObject) => { replicas: unknown; rv: string | undefined },
  ): Promise<KubeObject> {
    const res = await this.store.updateWith(ns, name, ctx, (cur) => {
      const { replicas, rv } = compute(cur.obj);
      if (rv && rv !== String(cur.rev)) throw conflict(this.store.qr, name, CONFLICT_MESSAGE);
      if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0)
        throw invalid("Scale", "autoscaling", name, [
          replicas === undefined
            ? fieldRequired("spec.replicas")
            : fieldInvalid("spec.replicas", replicas, "must be greater than or equal to 0"),
        ]);
      const next = structuredClone(cur.obj) as KubeObject & ScalableShape;
      next.spec = { ...(next.spec ?? {}), replicas };
      return next;
    });
    return toScale(res.obj, this.selectorOf);
  }
}
