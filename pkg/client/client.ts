// ApiClient: typed REST calls against a Kubernetes-shaped API server (kubeling's or a real one),
// over one undici Pool per client. Non-2xx answers become StatusError (rebuilt from the Status
// body, as client-go's errors.FromObject), connection failures a plain Error naming the server.

import type { Readable } from "node:stream";
import { Pool } from "undici";
import type { WebSocket } from "ws";
import { type Status, StatusError, statusErrorFromBody } from "../api/errors.js";
import type { DeleteOptions, KubeList, KubeObject, ListOptions, WatchEvent } from "../api/meta.js";
import { type ResourceInfo, type ResourceType, resourcePath } from "../api/resources.js";
import { TABLE_ACCEPT, type Table } from "../api/table.js";
import { dialWebSocket } from "../streaming/websocket.js";
import type { APIGroupList, APIResourceList, APIVersions, DiscoveredGroupVersion, VersionInfo } from "./discovery.js";
import { type ClientConfig, loadKubeconfig } from "./kubeconfig.js";

export { statusErrorFromBody } from "../api/errors.js";
export type { ClientConfig } from "./kubeconfig.js";

export type PatchType = "merge" | "json" | "strategic" | "apply";

/** The Content-Type each patch flavour is sent with (as kubectl and client-go send them). */
export const PATCH_CONTENT_TYPES: Readonly<Record<PatchType, string>> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

export type Query = Record<string, string | string[] | undefined>;

export interface RawResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

export interface RequestOptions {
  query?: Query;
  /** Objects are sent as JSON; strings and Buffers as they are. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Milliseconds of body silence before undici gives up; 0 disables (watches). */
  bodyTimeout?: number;
}

export interface WatchOptions {
  signal?: AbortSignal;
  /**
   * Accept header of the watch: TABLE_ACCEPT makes the server send each event's object as a
   * one-row meta.k8s.io Table (kubectl get -w); its events are then WatchEvent<Table>.
   */
  accept?: string;
  /**
   * Deliver ERROR events (their object a Status) instead of throwing them as StatusError, as
   * client-go's watch.Interface does (servers end the stream after one).
   */
  yieldErrors?: boolean;
}

export interface CreateOptions {
  subresource?: string;
  /** Object name in the URL, for subresource creates such as pods/{name}/binding. */
  name?: string;
  fieldManager?: string;
  dryRun?: boolean;
  fieldValidation?: "Strict" | "Warn" | "Ignore";
  signal?: AbortSignal;
}

const DEFAULT_USER_AGENT = "kubeling/0.1.0";

/** ListOptions as query parameters (numbers and booleans stringified, undefined dropped). */
export function listOptionsQuery(opts: ListOptions | undefined): Query {
  const q: Query = {};
  if (!opts) return q;
  for (const [k, v] of Object.entries(opts)) {
    if (v === undefined || v === null || v === "") continue;
    q[k] = String(v);
  }
  return q;
}

/** Encodes a query object; array values repeat the key, as Go's url.Values does. */
export function encodeQuery(query: Query | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const item of v) params.append(k, item);
    else params.append(k, v);
  }
  const s = params.toString();
  return s ? `?${s}` : "";
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

function isAbortError(err: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return true;
  return (err as { name?: unknown } | null)?.name === "AbortError";
}

export class ApiClient {
  readonly config: ClientConfig;
  readonly #pool: Pool;
  /** Path prefix of the server URL ("" for https://host:port). */
  readonly #prefix: string;
  readonly #userAgent: string;
  /** TLS options of https servers, for the pool and for WebSocket upgrades. */
  readonly #tls: { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
  readonly #openStreams = new Set<Readable>();
  #closed = false;

  constructor(config: ClientConfig, opts: { userAgent?: string; connections?: number } = {}) {
    this.config = config;
    let url: URL;
    try {
      url = new URL(config.server);
    } catch (err) {
      throw new Error(`invalid API server URL "${config.server}"`, { cause: err });
    }
    this.#prefix = url.pathname.replace(/\/+$/, "");
    this.#userAgent = opts.userAgent ?? DEFAULT_USER_AGENT;
    this.#tls =
      url.protocol === "https:"
        ? {
            ...(config.caPem ? { ca: config.caPem } : {}),
            ...(config.certPem ? { cert: config.certPem } : {}),
            ...(config.keyPem ? { key: config.keyPem } : {}),
            rejectUnauthorized: !config.insecureSkipTLSVerify,
          }
        : {};
    // connections: unlimited by default, because every open watch holds one connection.
    this.#pool = new Pool(url.origin, {
      connections: opts.connections ?? null,
      connect: this.#tls,
      keepAliveTimeout: 30_000,
    });
  }

  static fromKubeconfig(opts: { path?: string; context?: string } = {}): ApiClient {
    return new ApiClient(loadKubeconfig(opts));
  }

  /** The raw request every other call goes through. The caller must consume or destroy the body. */
  async request(method: string, path: string, o: RequestOptions = {}): Promise<RawResponse> {
    const headers: Record<string, string> = {
      accept: "application/json",
      "user-agent": this.#userAgent,
    };
    if (this.config.token) headers.authorization = `Bearer ${this.config.token}`;
    let body: string | Buffer | undefined;
    if (o.body !== undefined) {
      if (typeof o.body === "string" || Buffer.isBuffer(o.body)) body = o.body;
      else body = JSON.stringify(o.body);
      headers["content-type"] = "application/json";
    }
    for (const [k, v] of Object.entries(o.headers ?? {})) headers[k.toLowerCase()] = v;
    try {
      const res = await this.#pool.request({
        method: method as "GET",
        path: this.#prefix + path + encodeQuery(o.query),
        headers,
        body,
        signal: o.signal,
        ...(o.bodyTimeout !== undefined ? { bodyTimeout: o.bodyTimeout } : {}),
      });
      return { statusCode: res.statusCode, headers: res.headers, body: res.body };
    } catch (err) {
      if (isAbortError(err, o.signal)) throw err;
      throw this.#connectionError(err);
    }
  }

  #connectionError(err: unknown): Error {
    const message = (err as Error)?.message ?? String(err);
    const code = errorCode(err);
    const detail = code && !message.includes(code) ? `${message} (${code})` : message;
    return new Error(`cannot reach the API server at ${this.config.server}: ${detail}`, { cause: err });
  }

  /** A whole body as text; a connection lost on the way is an Error naming the server. */
  async #readText(body: Readable, signal: AbortSignal | undefined): Promise<string> {
    try {
      return await body.setEncoding("utf8").reduce((acc: string, chunk: string) => acc + chunk, "");
    } catch (err) {
      if (isAbortError(err, signal)) throw err;
      throw this.#connectionError(err);
    }
  }

  /** Sends a request and decodes a JSON answer; non-2xx throws StatusError. */
  async #json<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, o);
    const text = await this.#readText(res.body, o.signal);
    if (res.statusCode < 200 || res.statusCode >= 300) throw statusErrorFromBody(res.statusCode, text);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new Error(`${method} ${path}: invalid JSON from ${this.config.server}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  // The object type T comes from the resource (get(PODS, ...) is a Promise<Pod>); a ResourceInfo
  // without one gives KubeObject, or what the caller names (get<Pod>(info, ...)).

  get<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    name: string,
    opts: { subresource?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    return this.#json<T>("GET", resourcePath(r, ns, name, opts.subresource), {
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  list<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    opts?: ListOptions,
    o: { signal?: AbortSignal } = {},
  ): Promise<KubeList<T>> {
    return this.#json<KubeList<T>>("GET", resourcePath(r, ns), {
      query: listOptionsQuery(opts),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  }

  create<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    obj: object,
    opts: CreateOptions = {},
  ): Promise<T> {
    const namespace = ns ?? (obj as Partial<KubeObject>).metadata?.namespace;
    const query: Query = {
      fieldManager: opts.fieldManager,
      fieldValidation: opts.fieldValidation,
      dryRun: opts.dryRun ? "All" : undefined,
    };
    return this.#json<T>("POST", resourcePath(r, namespace, opts.name, opts.subresource), {
      query,
      body: obj,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  update<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    obj: T,
    opts: { subresource?: string; fieldManager?: string; signal?: AbortSignal } = {},
  ): Promise<T> {
    const name = obj.metadata.name;
    if (!name) throw new Error(`update ${r.resource}: object has no metadata.name`);
    const namespace = ns ?? obj.metadata.namespace;
    return this.#json<T>("PUT", resourcePath(r, namespace, name, opts.subresource), {
      query: { fieldManager: opts.fieldManager },
      body: obj,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  patch<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType,
    opts: { subresource?: string; fieldManager?: string; force?: boolean; dryRun?: boolean; signal?: AbortSignal } = {},
  ): Promise<T> {
    const query: Query = { fieldManager: opts.fieldManager };
    if (opts.dryRun) query.dryRun = "All";
    if (type === "apply") {
      // Server-side apply requires a field manager; kubectl's default is "kubectl".
      query.fieldManager = opts.fieldManager ?? "kubeling";
      if (opts.force !== undefined) query.force = String(opts.force);
    }
    // apply-patch+yaml accepts JSON text (a YAML subset), which is what kubectl sends too.
    const body = typeof patch === "string" ? patch : JSON.stringify(patch);
    return this.#json<T>("PATCH", resourcePath(r, ns, name, opts.subresource), {
      query,
      body,
      headers: { "content-type": PATCH_CONTENT_TYPES[type] },
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  }

  delete<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    name: string,
    opts?: DeleteOptions,
    o: { signal?: AbortSignal } = {},
  ): Promise<T | Status> {
    return this.#json<T | Status>("DELETE", resourcePath(r, ns, name), {
      ...(opts ? { body: { kind: "DeleteOptions", apiVersion: "v1", ...opts } } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  }

  deleteCollection(r: ResourceInfo, ns: string | undefined, opts?: ListOptions): Promise<KubeList | Status> {
    return this.#json<KubeList | Status>("DELETE", resourcePath(r, ns), { query: listOptionsQuery(opts) });
  }

  /** Server-side printing: a meta.k8s.io/v1 Table of a collection, or of one object when `name` is given. */
  table(
    r: ResourceInfo,
    ns: string | undefined,
    opts: ListOptions & { name?: string; includeObject?: "None" | "Metadata" | "Object" } = {},
  ): Promise<Table> {
    const { name, includeObject, ...listOpts } = opts;
    return this.#json<Table>("GET", resourcePath(r, ns, name), {
      query: { ...listOptionsQuery(listOpts), ...(includeObject ? { includeObject } : {}) },
      headers: { accept: TABLE_ACCEPT },
    });
  }

  /**
   * One watch HTTP stream (`?watch=true`) as an async iterable of events. An ERROR event is
   * thrown as StatusError (e.g. 410 Expired); an abort through `signal` ends the iteration
   * quietly; a dropped connection throws an Error naming the server. Resuming is the job of
   * watchWithResume (watch.ts).
   */
  async *watch<T extends KubeObject = KubeObject>(
    r: ResourceType<T>,
    ns: string | undefined,
    opts: ListOptions,
    signalOrOptions?: AbortSignal | WatchOptions,
  ): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const o: WatchOptions =
      signalOrOptions instanceof AbortSignal ? { signal: signalOrOptions } : (signalOrOptions ?? {});
    const signal = o.signal;
    if (signal?.aborted) return;
    const path = resourcePath(r, ns);
    let res: RawResponse;
    try {
      res = await this.request("GET", path, {
        query: { ...listOptionsQuery(opts), watch: "true" },
        ...(signal ? { signal } : {}),
        ...(o.accept ? { headers: { accept: o.accept } } : {}),
        bodyTimeout: 0,
      });
    } catch (err) {
      if (isAbortError(err, signal)) return;
      throw err;
    }
    const body = res.body;
    this.#openStreams.add(body);
    try {
      body.setEncoding("utf8");
      if (res.statusCode < 200 || res.statusCode >= 300) {
        const text = await body.reduce((acc: string, chunk: string) => acc + chunk, "");
        throw statusErrorFromBody(res.statusCode, text);
      }
      let buf = "";
      const decode = (line: string): WatchEvent<T> | undefined => {
        const trimmed = line.trim();
        if (!trimmed) return undefined;
        let ev: WatchEvent<T>;
        try {
          ev = JSON.parse(trimmed) as WatchEvent<T>;
        } catch (err) {
          throw new Error(`watch ${path}: undecodable event from ${this.config.server}: ${trimmed.slice(0, 200)}`, {
            cause: err,
          });
        }
        if (ev.type === "ERROR" && !o.yieldErrors)
          throw StatusError.fromStatus(ev.object as unknown as Partial<Status>, 500);
        return ev;
      };
      for await (const chunk of body as AsyncIterable<string>) {
        buf += chunk;
        let nl = buf.indexOf("\n");
        while (nl >= 0) {
          const ev = decode(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          if (ev) yield ev;
          nl = buf.indexOf("\n");
        }
      }
      const last = decode(buf);
      if (last) yield last;
    } catch (err) {
      if (err instanceof StatusError) throw err;
      if (isAbortError(err, signal)) return;
      if (err instanceof Error && err.message.startsWith(`watch ${path}: undecodable`)) throw err;
      throw this.#connectionError(err);
    } finally {
      this.#openStreams.delete(body);
      if (!body.destroyed) body.destroy();
    }
  }

  /**
   * A streaming GET (pods/{name}/log): the body as it arrives, once the server answered 2xx;
   * an error answer throws its StatusError. No body timeout: a followed log may be silent for long.
   * The caller consumes or destroys the stream.
   */
  async stream(path: string, o: { query?: Query; signal?: AbortSignal } = {}): Promise<Readable> {
    const res = await this.request("GET", path, {
      ...(o.query ? { query: o.query } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
      bodyTimeout: 0,
    });
    if (res.statusCode >= 200 && res.statusCode < 300) return res.body;
    const text = await this.#readText(res.body, o.signal);
    throw statusErrorFromBody(res.statusCode, text);
  }

  /**
   * What the server serves (client-go's ServerGroupsAndResources): the core group's versions
   * (/api), then each named group's preferred version (/apis), each with its resource list.
   */
  async discovery(): Promise<DiscoveredGroupVersion[]> {
    const out: DiscoveredGroupVersion[] = [];
    const core = await this.#json<APIVersions>("GET", "/api");
    for (const v of core.versions ?? []) {
      const list = await this.#json<APIResourceList>("GET", `/api/${v}`);
      out.push({ group: "", version: v, resources: list.resources ?? [] });
    }
    const groups = await this.#json<APIGroupList>("GET", "/apis");
    for (const g of groups.groups ?? []) {
      const preferred = g.preferredVersion ?? g.versions?.[0];
      if (!preferred) continue;
      const list = await this.#json<APIResourceList>("GET", `/apis/${preferred.groupVersion}`);
      out.push({ group: g.name, version: preferred.version, resources: list.resources ?? [] });
    }
    return out;
  }

  /** GET /version. */
  serverVersion(o: { query?: Query } = {}): Promise<VersionInfo> {
    return this.#json<VersionInfo>("GET", "/version", o.query ? { query: o.query } : {});
  }

  /**
   * A WebSocket to an API path (exec, port-forward), with this client's credentials, offering
   * `protocols`; resolves once open, with the protocol the server chose. A refused upgrade
   * rejects with the server's Status as StatusError.
   */
  upgrade(
    path: string,
    protocols: readonly string[],
    o: { query?: Query } = {},
  ): Promise<{ ws: WebSocket; protocol: string }> {
    const cfg = this.config;
    const base = new URL(cfg.server);
    const url = `${base.protocol === "https:" ? "wss:" : "ws:"}//${base.host}${this.#prefix}${path}${encodeQuery(o.query)}`;
    const headers: Record<string, string> = { "user-agent": this.#userAgent };
    if (cfg.token) headers.authorization = `Bearer ${cfg.token}`;
    return dialWebSocket(url, protocols, { headers, ...this.#tls });
  }

  /** True once close() was called; watchers stop resuming. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes open watch streams and the connection pool. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const s of this.#openStreams) s.destroy();
    this.#openStreams.clear();
    // A graceful close waits for in-flight requests; do not let a hung one hold shutdown forever.
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.#pool.destroy().then(resolve, resolve);
      }, 2000);
      timer.unref();
    });
    try {
      await Promise.race([this.#pool.close(), forced]);
    } finally {
      clearTimeout(timer);
    }
  }
}
