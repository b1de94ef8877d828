// The API server's HTTP layer: one Fastify app that authenticates, resolves the path to a
// resource, and maps the verb onto the storage layer's Store. buildServer() only builds (tests
// drive it with app.inject); main.ts listens.
//
// Request flow: onRequest (authentication: client certificate, bearer token, anonymous; OPEN_PATHS
// are served whoever asks; the audit record's RequestReceived event when --audit-policy-file
// records the request; impersonation; authorization of the request's RequestInfo, 403 with
// upstream's message) -> catch-all body parser (raw Buffer, 3 MiB limit) -> handler (path ->
// target, decode by Content-Type, Store call) -> JSON answer or Status. Every error goes through
// one error handler that answers a Status. onSend adds the Warning headers admission left; the
// audit record's ResponseComplete event is written once the response is gone. WebSocket upgrades
// (watch, exec, port-forward) pass the same authentication and authorization (not audited).

import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from "fastify";
import { WebSocketServer } from "ws";
import { StatusError, unauthorized } from "#pkg/api/errors.js";
import { BUILTIN_RESOURCES, type ResourceInfo } from "#pkg/api/resources.js";
import type { Logger } from "#pkg/runtime/log.js";
import { rejectUpgrade } from "#pkg/streaming/websocket.js";
import type { RequestSink } from "./admission/attributes.js";
import type { Auditor, AuditRequest } from "./audit/audit.js";
import type { Authenticator, AuthRequest, UserInfo } from "./auth/authenticator.js";
import type { Authorizer, RuleResolver } from "./auth/authorizer/authorizer.js";
import { forbidden } from "./auth/authorizer/forbidden.js";
import { attributesOf, requestInfo } from "./auth/authorizer/request-info.js";
import { alwaysAllow } from "./auth/authorizer/union.js";
import type { TokenAuthenticator } from "./auth/bearer.js";
import { distinctHeaders, hasImpersonation, impersonate } from "./auth/impersonation.js";
import type { OpenIDMetadata } from "./auth/serviceaccount/openid.js";
import { PathResolver } from "./http/path.js";
import { serialize } from "./http/protobuf.js";
import { isWatch, lenientBool, listOptions, type Query } from "./http/query.js";
import { MAX_BODY_BYTES, toStatusError } from "./http/status.js";
import type { KubeRequestInfo, RegistryView } from "./http/types.js";
import { addWarningHeaders } from "./http/warnings.js";
import { ApiMetrics } from "./metrics.js";
import { Reviews } from "./registry/authorization/reviews.js";
import type { TokenREST } from "./registry/core/serviceaccount/token.js";
import { registerDiscoveryRoutes } from "./routes/discovery.js";
import { registerOpenIDRoutes } from "./routes/openid.js";
import { makeResourceHandler, namedWatchOptions, verbOf } from "./routes/resources.js";
import { OPEN_PATHS, registerSystemRoutes } from "./routes/system.js";
import { WatchServer } from "./routes/watch.js";

declare module "fastify" {
  interface FastifyRequest {
    /** The authenticated user (undefined when authentication is off). */
    user: UserInfo | undefined;
    /** What the request addressed, for logs and metrics; null for non-resource paths. */
    kube: KubeRequestInfo | null;
    /** The request's warnings (sent as Warning headers) and audit annotations. */
    sink: RequestSink;
    /** The request's audit record, when the audit policy records it. */
    audit: AuditRequest | undefined;
  }
}

/**
 * UpgradeHandler takes an authenticated HTTP upgrade (WebSocket) that is not a watch, e.g. exec
 * or port-forward; it returns true if it handled the request.
 */
export type UpgradeHandler = (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  user: UserInfo | undefined,
) => boolean;

/** KubeletProxyContext is what the kubelet proxy (logs/exec/portforward) gets to plug in with. */
export interface KubeletProxyContext {
  registry: RegistryView;
  log: Logger;
  /** Register a handler for WebSocket/SPDY upgrades (exec, attach, portforward). */
  addUpgradeHandler(h: UpgradeHandler): void;
}

export interface ServerDeps {
  registry: RegistryView;
  log: Logger;
  /**
   * Request authentication (auth/authenticator.ts: x509, tokens, anonymous); when absent every
   * request is allowed (unit tests only).
   */
  auth?: Authenticator;
  /**
   * The bearer-token authenticators (token file, ServiceAccount tokens) and --api-audiences, for
   * TokenReview; absent: TokenReview authenticates nothing.
   */
  tokens?: { authenticator: TokenAuthenticator; apiAudiences: readonly string[] };
  /** serviceaccounts/{name}/token (TokenRequest); absent: that subresource answers 404. */
  tokenRequest?: TokenREST;
  /**
   * The service account issuer's discovery documents (/.well-known/openid-configuration,
   * /openid/v1/jwks); absent, or answering undefined: 404.
   */
  issuerDiscovery?: () => OpenIDMetadata | undefined;
  /** The authorizer chain (--authorization-mode); absent: everything is allowed. */
  authorizer?: Authorizer;
  /** The audit log (--audit-policy-file, --audit-log-path); absent: nothing is audited. */
  auditor?: Auditor;
  /** What SelfSubjectRulesReview lists; absent: everything (AlwaysAllow's rules). */
  ruleResolver?: RuleResolver;
  /**
   * Serve TLS with this key pair (the process always does; app.inject tests need not). With
   * clientCA the server asks every client for a certificate and verifies it against that bundle
   * without requiring one (auth/x509.ts reads the verdict), so token and anonymous clients still
   * connect.
   */
  tls?: { cert: string; key: string; clientCA?: string };
  metrics?: ApiMetrics;
  resources?: readonly ResourceInfo[];
  /**
   * Upstream's --max-requests-inflight / --max-mutating-requests-inflight: requests beyond these
   * (watches excluded) are answered 429 TooManyRequests with Retry-After. 0 or absent: no limit.
   */
  maxRequestsInflight?: number;
  maxMutatingRequestsInflight?: number;
  /**
   * registerKubeletProxy adds the routes that proxy pods/{name}/log, /exec and /portforward to
   * the kubelet (helper F). Its routes take precedence over the generic resource routes, which
   * answer 503 for those subresources while no proxy is installed.
   */
  registerKubeletProxy?: (app: FastifyInstance, ctx: KubeletProxyContext) => void;
}

export interface ApiServer {
  app: FastifyInstance;
  metrics: ApiMetrics;
  /** Stop accepting work: ends open watches (call before app.close()). */
  beginShutdown(): void;
}

function notFoundStatus(): StatusError {
  return new StatusError(404, "NotFound", "the server could not find the requested resource");
}

function sendStatus(reply: FastifyReply, err: StatusError): FastifyReply {
  // Upstream ErrorNegotiated: a suggested delay becomes Retry-After on the codes that may carry it.
  const delay = err.details?.retryAfterSeconds ?? 0;
  if (delay > 0 && [429, 500, 503, 504].includes(err.code)) reply.header("retry-after", String(delay));
  // A Buffer keeps the Content-Type exactly as set (Fastify rewrites it for string payloads).
  // Protobuf clients get the Status in protobuf, as upstream answers them.
  const { contentType, payload } = serialize(reply.request?.headers.accept, err.toStatus(), { status: true });
  return reply.code(err.code).header("content-type", contentType).send(payload);
}

/** isLongRunning: watches (and streaming subresources) do not count against in-flight limits. */
function isLongRunning(req: FastifyRequest): boolean {
  if (req.method !== "GET") return false;
  const q = req.query as Query;
  if (lenientBool(q, "watch") || lenientBool(q, "follow")) return true;
  return req.url.includes("/watch/") || /\/(exec|attach|portforward|proxy)(\?|$)/.test(req.url);
}

function pathOf(url: string): string {
  const q = url.indexOf("?");
  return q < 0 ? url : url.slice(0, q);
}

function httpsOptions(tls: NonNullable<ServerDeps["tls"]>) {
  const base = { cert: tls.cert, key: tls.key };
  if (!tls.clientCA) return base;
  return { ...base, ca: tls.clientCA, requestCert: true, rejectUnauthorized: false };
}

/** buildServer assembles the Fastify app; it does not listen. */
export function buildServer(deps: ServerDeps): ApiServer {
  const log = deps.log;
  const metrics = deps.metrics ?? new ApiMetrics();
  const resolver = new PathResolver(deps.resources ?? BUILTIN_RESOURCES);
  const watches = new WatchServer(log.child({ module: "watch" }), metrics);
  const authorizer = deps.authorizer ?? alwaysAllow;
  const reviews = new Reviews({
    authorizer,
    ruleResolver: deps.ruleResolver ?? alwaysAllow,
    ...(deps.tokens ? { tokens: deps.tokens.authenticator, apiAudiences: deps.tokens.apiAudiences } : {}),
  });
  const handleResource = makeResourceHandler({
    registry: deps.registry,
    watches,
    reviews,
    tokenRequest: deps.tokenRequest,
  });
  let shuttingDown = false;

  const app = Fastify({
    loggerInstance: log,
    // One debug line per request (onResponse below) instead of Fastify's two info lines.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY_BYTES,
    forceCloseConnections: true,
    keepAliveTimeout: 75_000,
    requestTimeout: 0, // watches are long-lived
    return503OnClosing: true,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1000 },
    ...(deps.tls ? { https: httpsOptions(deps.tls) } : {}),
  }) as unknown as FastifyInstance;

  app.decorateRequest("user", undefined);
  app.decorateRequest("kube", null);
  app.decorateRequest("sink", undefined as unknown as RequestSink);
  app.decorateRequest("audit", undefined);
  app.addHook("onRequest", (req, _reply, done) => {
    req.sink = { warnings: [], annotations: {} };
    done();
  });
  // Warnings go out on every answer, errors included, as upstream's warning recorder does.
  app.addHook("onSend", (req, reply, payload, done) => {
    addWarningHeaders(reply, req.sink?.warnings ?? []);
    req.audit?.response(payload, reply.getHeader("content-type")?.toString());
    done(null, payload);
  });

  // One raw-body parser for every media type, and for no Content-Type at all (kubectl's PUT
  // /scale): the handlers decode by Content-Type so that bad bodies become Status answers.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  /** The user, undefined when authentication is off, false for a 401. */
  const authenticate = async (req: AuthRequest): Promise<UserInfo | undefined | false> => {
    if (!deps.auth) return undefined;
    const r = await deps.auth.authenticateRequest(req);
    if (r && "user" in r) return r.user;
    // Upstream logs why at a low level and answers a bare 401: the reason is not the caller's business.
    if (r) log.debug({ reason: r.error }, "unable to authenticate the request");
    return false;
  };

  /**
   * The user a request acts as (authentication, then impersonation), or the StatusError to answer
   * with. undefined: authentication is off, or an open path reached without valid credentials.
   */
  const identify = async (
    req: AuthRequest & { url?: string | undefined },
    seen?: { authenticated?: UserInfo },
  ): Promise<UserInfo | undefined | StatusError> => {
    if (!deps.auth) return undefined;
    const user = await authenticate(req);
    if (user && seen) seen.authenticated = user;
    if (!user) return OPEN_PATHS.has(pathOf(req.url ?? "/")) ? undefined : unauthorized();
    const headers = distinctHeaders(req);
    if (!hasImpersonation(headers)) return user;
    try {
      return impersonate(user, headers, authorizer);
    } catch (err) {
      return toStatusError(err).error;
    }
  };

  const requestInfoOf = (method: string, url: string) => {
    const qs = url.indexOf("?");
    return requestInfo(method, pathOf(url), new URLSearchParams(qs < 0 ? "" : url.slice(qs + 1)));
  };

  /**
   * The authorization filter: undefined when allowed, else the 403 (or 500) to answer with. The
   * decision goes into annotations (the audit event's), as upstream's authorization filter does.
   */
  const authorize = (
    user: UserInfo | undefined,
    method: string,
    url: string,
    annotations?: Record<string, string>,
  ): StatusError | undefined => {
    if (!deps.authorizer || !user) return undefined;
    const attrs = attributesOf(user, requestInfoOf(method, url));
    const r = deps.authorizer.authorize(attrs);
    if (annotations) {
      annotations["authorization.k8s.io/decision"] = r.decision === "Allow" ? "allow" : "forbid";
      if (r.reason) annotations["authorization.k8s.io/reason"] = r.reason;
    }
    if (r.decision === "Allow") return undefined;
    if (r.error) return new StatusError(500, "InternalError", `Internal error occurred: ${r.error}`);
    return forbidden(attrs, r.reason);
  };

  /** The request's audit record: RequestReceived now, ResponseComplete once the response is gone. */
  const startAudit = (
    req: FastifyRequest,
    reply: FastifyReply,
    authenticated: UserInfo | undefined,
    user: UserInfo | undefined,
  ) => {
    if (!deps.auditor) return;
    const a = deps.auditor.begin({
      method: req.method,
      url: req.url,
      headers: req.headers,
      remoteAddress: req.socket?.remoteAddress,
      user: authenticated,
      impersonatedUser: user && authenticated && user !== authenticated ? user : undefined,
      info: requestInfoOf(req.method, req.url),
    });
    if (!a) return;
    req.audit = a;
    reply.header("audit-id", a.auditID);
    const complete = () =>
      a.complete({
        code: reply.raw.statusCode,
        requestBody: req.body,
        requestContentType: req.headers["content-type"],
        annotations: req.sink.annotations,
      });
    // "finish" once the response is written, "close" if the client went first (complete() runs once).
    reply.raw.once("finish", complete);
    reply.raw.once("close", complete);
  };

  app.addHook("onRequest", async (req, reply) => {
    const seen: { authenticated?: UserInfo } = {};
    const user = await identify(req.raw, seen);
    startAudit(req, reply, seen.authenticated, user instanceof StatusError ? undefined : user);
    if (user instanceof StatusError) return sendStatus(reply, user);
    req.user = user;
    const denied = authorize(user, req.method, req.url, req.sink.annotations);
    if (denied) {
      req.log.debug({ user: user?.name, method: req.method, url: req.url, reason: denied.message }, "forbidden");
      return sendStatus(reply, denied);
    }
  });

  // In-flight limits (upstream's max-in-flight filter). Requests are counted whether or not a
  // limit is set (apiserver_current_inflight_requests reads the counts). Released on "close",
  // which fires whether the response finished or the client went away.
  const limits = { readonly: deps.maxRequestsInflight ?? 0, mutating: deps.maxMutatingRequestsInflight ?? 0 };
  const inflight = { readonly: 0, mutating: 0 };
  metrics.inflightFrom(() => inflight);
  app.addHook("onRequest", (req, reply, done) => {
    if (OPEN_PATHS.has(pathOf(req.url)) || isLongRunning(req)) return done();
    const kind = req.method === "GET" || req.method === "HEAD" ? "readonly" : "mutating";
    const limit = limits[kind];
    if (limit > 0 && inflight[kind] >= limit) {
      reply.header("retry-after", "1");
      sendStatus(
        reply,
        new StatusError(429, "TooManyRequests", "Too many requests, please try again later.", {
          retryAfterSeconds: 1,
        }),
      );
      return;
    }
    inflight[kind]++;
    reply.raw.once("close", () => {
      inflight[kind]--;
    });
    done();
  });

  app.addHook("onResponse", (req, reply, done) => {
    const k = req.kube;
    const code = reply.statusCode;
    const seconds = reply.elapsedTime / 1000;
    if (k) {
      if (k.verb !== "WATCH") metrics.observe(k.verb, k.group, k.resource, code, seconds);
    } else {
      // Non-resource requests are labelled by route pattern ("/healthz", "/api/*"), never by
      // raw path, so label cardinality stays bounded whatever clients send.
      metrics.observe(req.method, "", req.routeOptions.url ?? "notfound", code, seconds);
    }
    if (log.isLevelEnabled("debug")) {
      req.log.debug(
        {
          method: req.method,
          url: req.url,
          code,
          durationMs: Math.round(reply.elapsedTime * 10) / 10,
          user: req.user?.name,
        },
        "request",
      );
    }
    done();
  });

  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    const { error, bug } = toStatusError(err);
    const k = req.kube;
    // "object", not "name": pino's own "name" field is the component.
    const ctx = {
      method: req.method,
      url: req.url,
      code: error.code,
      resource: k?.resource,
      namespace: k?.namespace,
      object: k?.name,
    };
    if (bug) req.log.error({ ...ctx, err }, "internal error");
    else if (error.code >= 500)
      req.log.error({ ...ctx, reason: error.reason, message: error.message }, "request failed");
    else if (error.code === 400 || error.code === 413 || error.code === 415 || error.code === 422) {
      req.log.warn({ ...ctx, reason: error.reason, message: error.message }, "request rejected");
    } else req.log.debug({ ...ctx, reason: error.reason }, "request failed");
    if (reply.sent || reply.raw.headersSent) return;
    if (error.code === 413 && !req.raw.complete) {
      // Clients that send the whole body before reading (the Python client) would see the
      // connection torn down mid-upload instead of this Status: read the rest first, bounded.
      void drainBody(req.raw).then((drained) => {
        if (!drained) reply.header("connection", "close");
        sendStatus(reply, error);
      });
      return reply;
    }
    sendStatus(reply, error);
  });

  app.setNotFoundHandler((_req, reply) => sendStatus(reply, notFoundStatus()));

  registerSystemRoutes(app, { registry: deps.registry, metrics, isShuttingDown: () => shuttingDown });
  registerDiscoveryRoutes(app, { resources: deps.resources ?? BUILTIN_RESOURCES });
  registerOpenIDRoutes(app, deps.issuerDiscovery ?? (() => undefined), (reply) => sendStatus(reply, notFoundStatus()));

  const resourceRoute = async (req: FastifyRequest, reply: FastifyReply) => {
    const target = resolver.resolve(pathOf(req.url));
    if (target.type === "notFound") throw notFoundStatus();
    if (target.type !== "resource") {
      // /apis/{group} and /api/v1, /apis/{group}/{version} are served by the discovery routes;
      // reaching here means a method other than GET.
      throw new StatusError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
    }
    const q = req.query as Query;
    req.kube = {
      verb: verbOf(req.method, target, q),
      group: target.resource.group,
      resource: target.resource.resource,
      subresource: target.subresource,
      namespace: target.namespace,
      name: target.name,
    };
    if (req.kube.verb === "WATCH") metrics.observe("WATCH", target.resource.group, target.resource.resource, 200, 0);
    return handleResource(req, reply, target);
  };
  const methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
  app.route({ method: methods, url: "/api/*", handler: resourceRoute });
  app.route({ method: methods, url: "/apis/*", handler: resourceRoute });

  // WebSocket upgrades: watches here, anything else (exec, port-forward) to registered handlers.
  const upgradeHandlers: UpgradeHandler[] = [];
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
  const onUpgrade = async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      const url = req.url ?? "/";
      const user = await identify(req);
      if (user instanceof StatusError) return rejectUpgrade(socket, user);
      const denied = authorize(user, req.method ?? "GET", url);
      if (denied) return rejectUpgrade(socket, denied);
      const target = resolver.resolve(pathOf(url));
      const qs = url.indexOf("?");
      const q = Object.fromEntries(new URLSearchParams(qs < 0 ? "" : url.slice(qs + 1))) as Query;
      if (target.type === "resource" && target.subresource === undefined && (target.watchPath || isWatch(q))) {
        if (!target.resource.verbs.includes("watch")) {
          return rejectUpgrade(
            socket,
            new StatusError(405, "MethodNotAllowed", "watch is not allowed on this resource"),
          );
        }
        const store = deps.registry.store(target.resource);
        metrics.observe("WATCH", target.resource.group, target.resource.resource, 101, 0);
        const opts = target.name === undefined ? listOptions(q) : namedWatchOptions(q, target.name);
        watches.serveWebSocket(wss, req, socket, head, store, target.namespace, opts);
        return;
      }
      for (const h of upgradeHandlers) if (h(req, socket, head, user)) return;
      rejectUpgrade(socket, notFoundStatus());
    } catch (err) {
      rejectUpgrade(socket, toStatusError(err).error);
    }
  };
  (app.server as Server).on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void onUpgrade(req, socket, head);
  });

  if (deps.registerKubeletProxy) {
    deps.registerKubeletProxy(app, {
      registry: deps.registry,
      log: log.child({ module: "kubelet-proxy" }),
      addUpgradeHandler: (h) => upgradeHandlers.push(h),
    });
  }

  app.addHook("onClose", (_instance, done) => {
    shuttingDown = true;
    watches.closeAll();
    for (const c of wss.clients) c.terminate();
    done();
  });

  return {
    app,
    metrics,
    beginShutdown: () => {
      shuttingDown = true;
      watches.closeAll();
    },
  };
}

/** How much of a refused body is read and discarded so that its sender sees the 413. */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
const DRAIN_MAX_MS = 30_000;

/** drainBody reads and drops the rest of a request's body: true once it ended, false past the bounds. */
function drainBody(req: FastifyRequest["raw"]): Promise<boolean> {
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (ended: boolean) => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onEnd);
      resolve(ended);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DRAIN_MAX_BYTES) finish(false);
    };
    const onEnd = () => finish(req.complete);
    const timer = setTimeout(() => finish(false), DRAIN_MAX_MS);
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onEnd);
    req.resume();
  });
}
