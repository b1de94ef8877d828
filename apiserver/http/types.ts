// What the HTTP layer needs from the storage layer (helper A1's Store/Registry), stated
// structurally so routes can be unit-tested against a fake and stay decoupled from storage.

import type { DeleteOptions, KubeList, KubeObject, ListOptions, WatchEvent } from "#pkg/api/meta.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { RequestSink } from "../admission/attributes.js";
import type { UserInfo } from "../auth/user.js";
import type { Strategy } from "../registry/strategy.js";

export type PatchKind = "merge" | "json" | "strategic" | "apply";

/** Subresources written through update/patch: status, a namespace's finalize, a pod's ephemeralcontainers. */
export type WriteSubresource = "status" | "finalize" | "ephemeralcontainers";

export interface RequestContext {
  user?: string;
  userInfo?: UserInfo;
  sink?: RequestSink;
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: "Strict" | "Warn" | "Ignore";
}

export interface StoreView {
  readonly resource: ResourceInfo;
  readonly strategy: Strategy;
  create(ns: string | undefined, obj: KubeObject, ctx: RequestContext): Promise<KubeObject>;
  get(ns: string | undefined, name: string, opts?: { resourceVersion?: string }): Promise<KubeObject>;
  list(ns: string | undefined, opts: ListOptions): Promise<KubeList>;
  update(
    ns: string | undefined,
    name: string,
    obj: KubeObject,
    ctx: RequestContext & { subresource?: WriteSubresource },
  ): Promise<{ object: KubeObject; created: boolean }>;
  patch(
    ns: string | undefined,
    name: string,
    kind: PatchKind,
    patch: unknown,
    ctx: RequestContext & { subresource?: WriteSubresource; force?: boolean },
  ): Promise<{ object: KubeObject; created: boolean }>;
  delete(
    ns: string | undefined,
    name: string,
    opts: DeleteOptions,
    ctx: RequestContext,
  ): Promise<{ object: KubeObject; deleted: boolean }>;
  deleteCollection(
    ns: string | undefined,
    list: ListOptions,
    opts: DeleteOptions,
    ctx: RequestContext,
  ): Promise<KubeList>;
  watch(ns: string | undefined, opts: ListOptions, signal: AbortSignal): AsyncIterable<WatchEvent>;
  getScale(ns: string, name: string): Promise<KubeObject>;
  updateScale(ns: string, name: string, scale: KubeObject, ctx: RequestContext): Promise<KubeObject>;
  patchScale(ns: string, name: string, kind: PatchKind, patch: unknown, ctx: RequestContext): Promise<KubeObject>;
  bind(ns: string, name: string, binding: KubeObject, ctx: RequestContext): Promise<KubeObject>;
  /**
   * Runs the admission chain for a create of subresource on ns/name whose body is obj, a kind
   * of its own (pods/eviction's Eviction, serviceaccounts/token's TokenRequest).
   */
  admitSubresourceCreate(
    ns: string | undefined,
    name: string,
    subresource: string,
    kind: { group: string; version: string; kind: string },
    obj: KubeObject,
    ctx: RequestContext,
  ): Promise<void>;
}

export interface RegistryView {
  store(r: ResourceInfo): StoreView;
  healthy(): Promise<boolean>;
}

/** What a request addresses, kept on the request for logs and metrics. */
export interface KubeRequestInfo {
  verb: string;
  group: string;
  resource: string;
  subresource?: string | undefined;
  namespace?: string | undefined;
  name?: string | undefined;
}
