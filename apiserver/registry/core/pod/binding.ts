// pods/binding (upstream pkg/registry/core/pod/storage BindingREST.assignPod): sets
// spec.nodeName once, with the PodScheduled condition, in one read-modify-write that bypasses
// the pod strategy (a binding is not an update of the pod).

import { conflict, fieldInvalid, fieldRequired, invalid, type Status } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { metaTime } from "#pkg/api/time.js";
import type { Pod } from "#pkg/api/types/core.js";
import type { BindingSubresource, RequestContext, Store } from "../../store.js";

export class BindingREST implements BindingSubresource {
  constructor(private readonly store: Store) {}

  async create(ns: string, name: string, binding: KubeObject, ctx: RequestContext): Promise<KubeObject> {
    const target = (binding as { target?: { name?: string; kind?: string } }).target;
    const nodeName = target?.name ?? "";
    if (!nodeName) throw invalid("Binding", "", name, [fieldRequired("target.name")]);
    if (target?.kind && target.kind !== "Node")
      throw invalid("Binding", "", name, [fieldInvalid("target.kind", target.kind, 'must be empty or "Node"')]);
    const precondUid = binding.metadata?.uid;
    const qr = this.store.qr;
    await this.store.guaranteedUpdate(
      ns,
      name,
      (cur) => {
        const pod = structuredClone(cur.obj) as Pod;
        if (precondUid && pod.metadata.uid !== precondUid)
          throw conflict(
            qr,
            name,
            `Precondition failed: UID in precondition: ${precondUid}, UID in object meta: ${pod.metadata.uid ?? ""}`,
          );
        if (pod.metadata.deletionTimestamp)
          throw conflict(qr, name, `pod ${name} is being deleted, cannot be assigned to a host`);
        if (pod.spec?.nodeName)
          throw conflict(qr, name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
        pod.spec = { ...(pod.spec ?? {}), nodeName } as Pod["spec"];
        const annotations = binding.metadata?.annotations;
        if (annotations) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...annotations };
        pod.status ??= {};
        const status = pod.status;
        const conditions = (status.conditions ?? []).filter((c) => c.type !== "PodScheduled");
        conditions.push({ type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: metaTime() });
        status.conditions = conditions;
        return pod as KubeObject;
      },
      { dryRun: ctx.dryRun === true },
    );
    const ok: Status = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", code: 201 };
    return ok as unknown as KubeObject;
  }
}
