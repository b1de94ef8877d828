// coordination.k8s.io/v1 Lease: leader election and node heartbeats.

import type { KubeObject } from "../meta.js";
import { Int, Obj, Opt, type Static, Str } from "../schema/helpers.js";
import { type KindBody, KindSchema } from "./meta.js";

export const LeaseSpecSchema = Obj({
  holderIdentity: Opt(Str()),
  leaseDurationSeconds: Opt(Int()),
  /** MicroTime: RFC 3339 with microseconds, e.g. "2024-01-02T03:04:05.123456Z". */
  acquireTime: Opt(Str()),
  renewTime: Opt(Str()),
  leaseTransitions: Opt(Int()),
  strategy: Opt(Str()),
  preferredHolder: Opt(Str()),
});
export type LeaseSpec = Static<typeof LeaseSpecSchema>;

export const LeaseSchema = KindSchema("Lease", { spec: Opt(LeaseSpecSchema) });
export interface Lease extends KubeObject, KindBody<typeof LeaseSchema> {}
