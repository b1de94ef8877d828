// discovery.k8s.io/v1 EndpointSlice: a service's endpoints in slices of at most 100 (what
// kube-proxy and cluster DNS read), written by the EndpointSlice controllers.

import type { KubeObject } from "../meta.js";
import { Bool, Int, List, Obj, Opt, SetList, type Static, Str, StrMap } from "../schema/helpers.js";
import { ObjectReferenceSchema } from "./core.js";
import { type KindBody, KindSchema } from "./meta.js";

/** The label naming the Service a slice belongs to. */
export const LABEL_SERVICE_NAME = "kubernetes.io/service-name";
/** On Endpoints: the mirroring controller makes no slices of them (the API server's own). */
export const LABEL_SKIP_MIRROR = "endpointslice.kubernetes.io/skip-mirror";
/** The label naming the controller (or user tool) that manages a slice. */
export const LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by";

export const EndpointConditionsSchema = Obj({
  ready: Opt(Bool("the endpoint is ready to receive traffic (false while terminating)")),
  serving: Opt(Bool("the endpoint's readiness, whether or not it is terminating")),
  terminating: Opt(Bool("the endpoint is terminating")),
});
export type EndpointConditions = Static<typeof EndpointConditionsSchema>;

const ForZoneSchema = Obj({ name: Str() });
const ForNodeSchema = Obj({ name: Str() });

export const EndpointSchema = Obj({
  addresses: SetList(Str(), "1 to 100 addresses of the addressType, fungible"),
  conditions: Opt(EndpointConditionsSchema),
  hostname: Opt(Str()),
  targetRef: Opt(ObjectReferenceSchema),
  deprecatedTopology: Opt(StrMap()),
  nodeName: Opt(Str()),
  zone: Opt(Str()),
  hints: Opt(Obj({ forZones: Opt(List(ForZoneSchema)), forNodes: Opt(List(ForNodeSchema)) })),
});
export type Endpoint = Static<typeof EndpointSchema>;

export const EndpointSlicePortSchema = Obj({
  name: Opt(Str()),
  protocol: Opt(Str("TCP, UDP or SCTP; defaults to TCP")),
  port: Opt(Int()),
  appProtocol: Opt(Str()),
});
export type EndpointSlicePort = Static<typeof EndpointSlicePortSchema>;

export const EndpointSliceSchema = KindSchema("EndpointSlice", {
  addressType: Str("IPv4, IPv6 or FQDN"),
  endpoints: List(EndpointSchema),
  ports: Opt(List(EndpointSlicePortSchema)),
});
export interface EndpointSlice extends KubeObject, KindBody<typeof EndpointSliceSchema> {}
