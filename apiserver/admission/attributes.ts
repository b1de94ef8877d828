// What an admission plugin is told about a request (upstream: apiserver/pkg/admission
// Attributes): the operation, the resource and kind, where and who, the object being written
// and the one it replaces. Plugins hand warnings back through addWarning (they become
// `Warning: 299` headers) and audit annotations through addAnnotation (they land in the
// request's audit event).

import type { KubeObject } from "#pkg/api/meta.js";
import type { UserInfo } from "../auth/user.js";

/** upstream admission.Operation. */
export type Operation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

export interface GroupVersionResource {
  group: string;
  version: string;
  resource: string;
}

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface Attributes {
  readonly operation: Operation;
  readonly resource: GroupVersionResource;
  /** "" for the main resource; "status", "scale", "binding", "exec", ... otherwise. */
  readonly subresource: string;
  readonly kind: GroupVersionKind;
  /** "" for cluster-scoped resources. */
  readonly namespace: string;
  /**
   * The name as the request presented it: "" for a create that asks for a generated name (the
   * object's metadata.name is set by the time validating plugins run, this is not).
   */
  readonly name: string;
  /** The object being written; mutating plugins may change it. Undefined for DELETE and CONNECT. */
  readonly object: KubeObject | undefined;
  /** The stored object an UPDATE replaces or a DELETE removes. */
  readonly oldObject: KubeObject | undefined;
  /** Undefined when authentication is off (unit tests). */
  readonly userInfo: UserInfo | undefined;
  /** Nothing will be persisted: plugins with side effects must not make them. */
  readonly dryRun: boolean;
  /** A warning for the client (an HTTP `Warning: 299 - "..."` header; kubectl prints it). */
  addWarning(message: string): void;
  /** An annotation of the request's audit event (keys qualified by the plugin, e.g. pod-security.kubernetes.io/...). */
  addAnnotation(key: string, value: string): void;
}

/** Where a request's warnings and audit annotations are collected (owned by the HTTP layer). */
export interface RequestSink {
  warnings: string[];
  annotations: Record<string, string>;
}

export interface AttributesInit {
  operation: Operation;
  resource: GroupVersionResource;
  subresource?: string | undefined;
  kind: GroupVersionKind;
  namespace?: string | undefined;
  name?: string | undefined;
  object?: KubeObject | undefined;
  oldObject?: KubeObject | undefined;
  userInfo?: UserInfo | undefined;
  dryRun?: boolean | undefined;
  /** Absent: warnings and annotations are dropped (internal writes). */
  sink?: RequestSink | undefined;
}

export function newAttributes(init: AttributesInit): Attributes {
  const sink = init.sink;
  return {
    operation: init.operation,
    resource: init.resource,
    subresource: init.subresource ?? "",
    kind: init.kind,
    namespace: init.namespace ?? "",
    name: init.name ?? "",
    object: init.object,
    oldObject: init.oldObject,
    userInfo: init.userInfo,
    dryRun: init.dryRun === true,
    addWarning(message) {
      if (sink && !sink.warnings.includes(message)) sink.warnings.push(message);
    },
    addAnnotation(key, value) {
      if (sink) sink.annotations[key] = value;
    },
  };
}
