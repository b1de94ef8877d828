// The audit log (upstream apiserver/pkg/audit and endpoints/filters/audit.go with the log
// backend): each request the policy records gets an audit.k8s.io/v1 Event at RequestReceived
// (before it is served) and at ResponseComplete (once the response is sent), unless the policy
// omits the stage. Metadata carries who, what, from where and the response status; Request adds
// the request's object; RequestResponse the response's too. One JSON event per line, to a file
// (appended) or stdout ("-").

import { randomUUID } from "node:crypto";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { dirname } from "node:path";
import { parse as parseYaml } from "yaml";
import type { RequestInfo } from "../auth/authorizer/request-info.js";
import type { UserInfo } from "../auth/user.js";
import { decodeProtobuf, PROTOBUF } from "../http/protobuf.js";
import {
  evaluatePolicy,
  type Level,
  levelAtLeast,
  type Policy,
  type RequestAuditConfig,
  type Stage,
} from "./policy.js";

/** authentication.k8s.io/v1 UserInfo as events carry it (empty fields left out). */
export interface EventUser {
  username?: string;
  uid?: string;
  groups?: string[];
}

export interface EventObjectRef {
  resource?: string;
  namespace?: string;
  name?: string;
  apiGroup?: string;
  apiVersion?: string;
  subresource?: string;
}

export interface EventResponseStatus {
  metadata: Record<string, never>;
  status?: string;
  message?: string;
  reason?: string;
  details?: unknown;
  code: number;
}

/** audit.k8s.io/v1 Event, fields in upstream's order. */
export interface AuditEvent {
  kind: "Event";
  apiVersion: "audit.k8s.io/v1";
  level: Level;
  auditID: string;
  stage: Stage;
  requestURI: string;
  verb: string;
  user: EventUser;
  impersonatedUser?: EventUser;
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: EventObjectRef;
  responseStatus?: EventResponseStatus;
  requestObject?: unknown;
  responseObject?: unknown;
  requestReceivedTimestamp: string;
  stageTimestamp: string;
  annotations?: Record<string, string>;
}

/** Where events go. */
export interface AuditBackend {
  write(ev: AuditEvent): void;
  /** Flushes and closes (the process is stopping). */
  close(): Promise<void>;
}

/** metav1.MicroTime: RFC 3339 with six fractional digits, UTC. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function eventUser(u: UserInfo | undefined): EventUser {
  const out: EventUser = {};
  if (!u) return out;
  if (u.name) out.username = u.name;
  if (u.uid) out.uid = u.uid;
  if (u.groups.length > 0) out.groups = [...u.groups];
  return out;
}

/** upstream utilnet.SourceIPs: X-Forwarded-For, then X-Real-Ip, then the peer if not already last. */
export function sourceIPs(
  headers: Record<string, string | string[] | undefined>,
  remote: string | undefined,
): string[] {
  const header = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(",") : (v ?? "");
  };
  const ips = header("x-forwarded-for")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const real = header("x-real-ip").trim();
  if (real && !ips.includes(real)) ips.push(real);
  const peer = remote?.replace(/^::ffff:/, "");
  if (peer && ips.at(-1) !== peer) ips.push(peer);
  return ips;
}

/** Drops metadata.managedFields from an object or a list's items (omitManagedFields). */
function withoutManagedFields(obj: unknown): unknown {
  if (typeof obj !== "object" || obj === null) return obj;
  const o = obj as { metadata?: { managedFields?: unknown }; items?: unknown[] };
  const copy: Record<string, unknown> = { ...(o as Record<string, unknown>) };
  if (o.metadata && typeof o.metadata === "object" && "managedFields" in o.metadata) {
    const { managedFields: _m, ...meta } = o.metadata;
    copy.metadata = meta;
  }
  if (Array.isArray(o.items)) copy.items = o.items.map(withoutManagedFields);
  return copy;
}

/** A body as an object, if it is JSON or YAML (protobuf and empty bodies are not recorded). */
function decodeBody(body: unknown, contentType: string | undefined): unknown {
  if (body === undefined || body === null) return undefined;
  const ct = (contentType ?? "").toLowerCase();
  // Protobuf bodies (client-go's typed clients, kubectl 1.32+'s creates) are logged as the
  // objects they decode to, in JSON, as upstream's audit logs the decoded object.
  if (ct.startsWith(PROTOBUF) && !ct.includes("stream=watch") && Buffer.isBuffer(body)) {
    try {
      return decodeProtobuf(body);
    } catch {
      return undefined;
    }
  }
  const text = Buffer.isBuffer(body) ? body.toString("utf8") : typeof body === "string" ? body : undefined;
  if (text === undefined) return typeof body === "object" ? body : undefined;
  if (text.trim() === "") return undefined;
  try {
    if (ct.includes("yaml")) return parseYaml(text);
    if (ct === "" || ct.includes("json")) return JSON.parse(text);
  } catch {
    return undefined;
  }
  return undefined;
}

export interface AuditRequestInit {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  remoteAddress: string | undefined;
  /** The authenticated user (undefined: authentication failed or is off). */
  user: UserInfo | undefined;
  /** Who the request acts as, when it impersonates. */
  impersonatedUser?: UserInfo | undefined;
  info: RequestInfo;
}

/** One request's audit record; complete() writes its last event. */
export class AuditRequest {
  readonly auditID: string;
  readonly config: RequestAuditConfig;
  readonly #backend: AuditBackend;
  readonly #now: () => number;
  readonly #base: Omit<AuditEvent, "stage" | "stageTimestamp">;
  readonly #info: RequestInfo;
  #response: { body: unknown; contentType: string | undefined } | undefined;
  #done = false;

  constructor(init: AuditRequestInit, config: RequestAuditConfig, backend: AuditBackend, now: () => number) {
    this.config = config;
    this.#backend = backend;
    this.#now = now;
    this.#info = init.info;
    const given = init.headers["audit-id"];
    this.auditID = (Array.isArray(given) ? given[0] : given) || randomUUID();
    const info = init.info;
    const ua = init.headers["user-agent"];
    const base: Omit<AuditEvent, "stage" | "stageTimestamp"> = {
      kind: "Event",
      apiVersion: "audit.k8s.io/v1",
      level: config.level,
      auditID: this.auditID,
      requestURI: init.url,
      verb: info.verb,
      user: eventUser(init.user),
      requestReceivedTimestamp: microTime(now()),
    };
    if (init.impersonatedUser) base.impersonatedUser = eventUser(init.impersonatedUser);
    const ips = sourceIPs(init.headers, init.remoteAddress);
    if (ips.length > 0) base.sourceIPs = ips;
    if (ua) base.userAgent = Array.isArray(ua) ? ua.join(" ") : ua;
    if (info.isResourceRequest) {
      const ref: EventObjectRef = {};
      if (info.resource) ref.resource = info.resource;
      if (info.namespace) ref.namespace = info.namespace;
      if (info.name) ref.name = info.name;
      if (info.apiGroup) ref.apiGroup = info.apiGroup;
      if (info.apiVersion) ref.apiVersion = info.apiVersion;
      if (info.subresource) ref.subresource = info.subresource;
      base.objectRef = ref;
    }
    this.#base = base;
  }

  /** The RequestReceived event (before the request is served). */
  received(): void {
    this.#emit("RequestReceived", {});
  }

  /** The body sent back, for RequestResponse (and the Status of a failure at every level). */
  response(body: unknown, contentType: string | undefined): void {
    this.#response = { body, contentType };
  }

  /** The ResponseComplete event: the status code, the request body, annotations. Once. */
  complete(o: {
    code: number;
    requestBody?: unknown;
    requestContentType?: string;
    annotations?: Record<string, string>;
  }): void {
    if (this.#done) return;
    this.#done = true;
    const extra: Partial<AuditEvent> = {};
    const response = this.#response ? decodeBody(this.#response.body, this.#response.contentType) : undefined;
    const status: EventResponseStatus = { metadata: {}, code: o.code };
    const r = response as
      | { kind?: unknown; status?: string; message?: string; reason?: string; details?: unknown }
      | undefined;
    if (r?.kind === "Status") {
      if (r.status) status.status = r.status;
      if (r.message) status.message = r.message;
      if (r.reason) status.reason = r.reason;
      if (r.details) status.details = r.details;
    }
    extra.responseStatus = status;
    // Objects only for resource requests (upstream: never for non-resource URLs).
    if (this.#info.isResourceRequest && levelAtLeast(this.config.level, "Request")) {
      const req = decodeBody(o.requestBody, o.requestContentType);
      if (req !== undefined) extra.requestObject = this.config.omitManagedFields ? withoutManagedFields(req) : req;
    }
    if (this.#info.isResourceRequest && levelAtLeast(this.config.level, "RequestResponse") && response !== undefined)
      extra.responseObject = this.config.omitManagedFields ? withoutManagedFields(response) : response;
    if (o.annotations && Object.keys(o.annotations).length > 0) extra.annotations = { ...o.annotations };
    this.#emit("ResponseComplete", extra);
  }

  #emit(stage: Stage, extra: Partial<AuditEvent>): void {
    if (this.config.omitStages.includes(stage)) return;
    const { requestReceivedTimestamp, ...head } = this.#base;
    // Upstream's field order: the stage right after auditID, timestamps after the objects.
    const ev: AuditEvent = {
      kind: head.kind,
      apiVersion: head.apiVersion,
      level: head.level,
      auditID: head.auditID,
      stage,
      requestURI: head.requestURI,
      verb: head.verb,
      user: head.user,
      ...(head.impersonatedUser ? { impersonatedUser: head.impersonatedUser } : {}),
      ...(head.sourceIPs ? { sourceIPs: head.sourceIPs } : {}),
      ...(head.userAgent ? { userAgent: head.userAgent } : {}),
      ...(head.objectRef ? { objectRef: head.objectRef } : {}),
      ...(extra.responseStatus ? { responseStatus: extra.responseStatus } : {}),
      ...(extra.requestObject !== undefined ? { requestObject: extra.requestObject } : {}),
      ...(extra.responseObject !== undefined ? { responseObject: extra.responseObject } : {}),
      requestReceivedTimestamp,
      stageTimestamp: microTime(this.#now()),
      ...(extra.annotations ? { annotations: extra.annotations } : {}),
    };
    this.#backend.write(ev);
  }
}

/** The policy and the backend: begin() starts a request's record, or returns undefined at level None. */
export class Auditor {
  readonly #policy: Policy;
  readonly #backend: AuditBackend;
  readonly #now: () => number;

  constructor(policy: Policy, backend: AuditBackend, now: () => number = Date.now) {
    this.#policy = policy;
    this.#backend = backend;
    this.#now = now;
  }

  begin(init: AuditRequestInit): AuditRequest | undefined {
    // Upstream evaluates the policy for the authenticated user, before impersonation.
    const config = evaluatePolicy(this.#policy, init.user, init.info);
    if (config.level === "None") return undefined;
    const r = new AuditRequest(init, config, this.#backend, this.#now);
    r.received();
    return r;
  }

  close(): Promise<void> {
    return this.#backend.close();
  }
}

/** upstream's log backend (--audit-log-path): one JSON event per line; "-" is stdout. */
export class LogBackend implements AuditBackend {
  readonly #out: WriteStream | NodeJS.WriteStream;
  readonly #owned: boolean;

  constructor(path: string) {
    if (path === "-") {
      this.#out = process.stdout;
      this.#owned = false;
    } else {
      mkdirSync(dirname(path), { recursive: true });
      this.#out = createWriteStream(path, { flags: "a", mode: 0o600 });
      this.#owned = true;
    }
  }

  write(ev: AuditEvent): void {
    this.#out.write(`${JSON.stringify(ev)}\n`);
  }

  close(): Promise<void> {
    if (!this.#owned) return Promise.resolve();
    const out = this.#out as WriteStream;
    return new Promise((resolve) => out.end(resolve));
  }
}

/** Events kept in memory (tests). */
export class MemoryBackend implements AuditBackend {
  readonly events: AuditEvent[] = [];
  write(ev: AuditEvent): void {
    this.events.push(structuredClone(ev));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
