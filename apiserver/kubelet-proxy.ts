// Kubelet proxy: pods/{name}/log, pods/{name}/exec and pods/{name}/portforward are served by the
// kubelet of the pod's node (upstream: pkg/registry/core/pod/rest/{log,subresources}.go). The
// API server authenticates the request, finds the node's kubelet (InternalIP +
// daemonEndpoints.kubeletEndpoint.Port, plain HTTP, see kubelet/server.ts) and pipes bytes:
// a chunked HTTP stream for logs, WebSocket frames both ways for exec and port-forward.
// Mount: buildServer({ ..., registerKubeletProxy }) — its dependency on the server is the small
// KubeletProxyContext (a registry view, a logger, addUpgradeHandler).

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { request } from "undici";
import { WebSocket, WebSocketServer } from "ws";
import { badRequest, isStatus, StatusError } from "#pkg/api/errors.js";
import { registry as resources } from "#pkg/api/resources.js";
import type { Node, Pod } from "#pkg/api/types/index.js";
import type { Logger } from "#pkg/runtime/log.js";

/** The one thing the proxy needs from the API server besides routes and upgrades. */
export interface KubeletProxyLookup {
  getPod(ns: string, name: string): Promise<Pod>;
  getNode(name: string): Promise<Node>;
}

/** Structural copy of apiserver/server.ts KubeletProxyContext (kept structural to stay decoupled). */
export interface KubeletProxyContextLike {
  registry: {
    store(r: NonNullable<ReturnType<typeof resources.lookup>>): {
      get(ns: string | undefined, name: string): Promise<unknown>;
    };
  };
  log: Logger;
  addUpgradeHandler(h: (req: IncomingMessage, socket: Duplex, head: Buffer, user: unknown) => boolean): void;
}

const EXEC_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
const PORT_FORWARD_PROTOCOL = "SPDY/3.1+portforward.k8s.io";
const POD_SUB = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|portforward|attach)$/;

export function lookupFromRegistry(ctx: KubeletProxyContextLike): KubeletProxyLookup {
  const pods = resources.lookup("pods");
  const nodes = resources.lookup("nodes");
  if (!pods || !nodes) throw new Error("pods/nodes missing from the resource registry");
  return {
    getPod: async (ns, name) => (await ctx.registry.store(pods).get(ns, name)) as Pod,
    getNode: async (name) => (await ctx.registry.store(nodes).get(undefined, name)) as Node,
  };
}

/** kubeletBase: "http://<InternalIP>:<port>" of the node that runs the pod. */
export async function kubeletBase(lookup: KubeletProxyLookup, pod: Pod): Promise<string> {
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
  const node = await lookup.getNode(nodeName);
  const addrs = node.status?.addresses ?? [];
  const host =
    addrs.find((a) => a.type === "InternalIP")?.address ??
    addrs.find((a) => a.type === "ExternalIP")?.address ??
    addrs.find((a) => a.type === "Hostname")?.address;
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  if (!host || !port) throw new StatusError(503, "ServiceUnavailable", `node ${nodeName} has no kubelet endpoint`);
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** containerName: the one named, else the default-container annotation, else the only container. */
export function containerName(pod: Pod, requested: string | undefined): string {
  if (requested) return requested;
  const annotated = pod.metadata.annotations?.["kubectl.kubernetes.io/default-container"];
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  if (annotated && names.includes(annotated)) return annotated;
  if (names.length === 1 && names[0]) return names[0];
  const all = [...(pod.spec?.initContainers ?? []).map((c) => c.name), ...names];
  throw badRequest(
    `a container name must be specified for pod ${pod.metadata.name}, choose one of: [${all.join(" ")}]`,
  );
}

function statusFromBody(code: number, body: string): StatusError {
  try {
    const j = JSON.parse(body) as unknown;
    if (isStatus(j)) return new StatusError(code, j.reason ?? "InternalError", j.message ?? body);
  } catch {
    // not JSON
  }
  return new StatusError(
    code >= 400 ? code : 502,
    code === 404 ? "NotFound" : "InternalError",
    body || `kubelet answered ${code}`,
  );
}

function rejectUpgrade(socket: Duplex, err: unknown): void {
  const e = err instanceof StatusError ? err : new StatusError(500, "InternalError", (err as Error).message);
  const body = JSON.stringify(e.toStatus());
  if (socket.destroyed) return;
  socket.end(
    `HTTP/1.1 ${e.code} ${e.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const LOG_PARAMS = ["follow", "previous", "tailLines", "timestamps", "sinceSeconds", "limitBytes"];

/**
 * registerKubeletProxy installs the log route and the exec/portforward upgrade handler.
 * `lookup` defaults to reading pods and nodes from ctx.registry.
 */
export function registerKubeletProxy(
  app: FastifyInstance,
  ctx: KubeletProxyContextLike,
  lookup: KubeletProxyLookup = lookupFromRegistry(ctx),
): void {
  const log = ctx.log;
  // Subprotocols are negotiated here, not by ws: "SPDY/3.1+portforward.k8s.io" contains a "/",
  // which ws rejects as an invalid token. The header is taken off the request and the chosen
  // protocol is written into the 101 by the "headers" hook.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const chosen = new WeakMap<IncomingMessage, string>();
  wss.on("headers", (headers, req) => {
    const p = chosen.get(req);
    if (p) headers.push(`Sec-WebSocket-Protocol: ${p}`);
  });
  app.addHook("onClose", (_i, done) => {
    for (const c of wss.clients) c.terminate();
    done();
  });

  app.get(
    "/api/v1/namespaces/:namespace/pods/:name/log",
    async (
      req: FastifyRequest<{
        Params: { namespace: string; name: string };
        Querystring: Record<string, string | undefined>;
      }>,
      reply: FastifyReply,
    ) => {
      const { namespace, name } = req.params;
      const pod = await lookup.getPod(namespace, name);
      const container = containerName(pod, req.query.container);
      const base = await kubeletBase(lookup, pod);
      const qs = new URLSearchParams();
      for (const p of LOG_PARAMS) {
        const v = req.query[p];
        if (v !== undefined) qs.set(p, v);
      }
      const url = `${base}/containerLogs/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}?${qs}`;
      const abort = new AbortController();
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(url, { signal: abort.signal, headersTimeout: 30_000, bodyTimeout: 0 });
      } catch (err) {
        throw new StatusError(500, "InternalError", `error dialing backend: ${(err as Error).message}`);
      }
      if (res.statusCode !== 200) throw statusFromBody(res.statusCode, await res.body.text());
      // Stream straight through, headers first: kubectl logs -f waits for them (KUBECTL_WIRE 3.4).
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, { "Content-Type": "text/plain", "Transfer-Encoding": "chunked", "Cache-Control": "no-cache" });
      raw.flushHeaders();
      res.body.pipe(raw);
      res.body.on("error", () => raw.destroy());
      raw.on("close", () => {
        abort.abort();
        res.body.destroy();
      });
    },
  );

  ctx.addUpgradeHandler((req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://apiserver");
    const m = POD_SUB.exec(url.pathname);
    if (!m) return false;
    const ns = decodeURIComponent(m[1] ?? "");
    const name = decodeURIComponent(m[2] ?? "");
    const sub = m[3];
    void (async () => {
      if (sub === "attach") throw badRequest("attach is not supported by kubeling");
      const pod = await lookup.getPod(ns, name);
      const base = (await kubeletBase(lookup, pod)).replace(/^http/, "ws");
      let target: string;
      if (sub === "exec") {
        const container = containerName(pod, url.searchParams.get("container") ?? undefined);
        const qs = new URLSearchParams(url.searchParams);
        qs.delete("container");
        target = `${base}/exec/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}?${qs}`;
      } else {
        target = `${base}/portForward/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`;
      }
      const offered = String(req.headers["sec-websocket-protocol"] ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const supported = sub === "exec" ? EXEC_PROTOCOLS : [PORT_FORWARD_PROTOCOL];
      const protocol = supported.find((p) => offered.includes(p));
      if (!protocol)
        throw badRequest(
          `unsupported subprotocols ${JSON.stringify(offered)}; want one of ${JSON.stringify(supported)}`,
        );
      delete req.headers["sec-websocket-protocol"];
      // exec's protocols are valid tokens and tell the kubelet the framing version; port-forward
      // goes without one (the kubelet's portForward endpoint always speaks SPDY/3.1).
      const upstream = new WebSocket(target, sub === "exec" ? [protocol] : [], { perMessageDeflate: false });
      await new Promise<void>((resolve, reject) => {
        upstream.once("open", () => resolve());
        upstream.once("unexpected-response", (_r, res) => {
          let body = "";
          res.on("data", (c: Buffer) => {
            body += c.toString();
          });
          res.on("end", () => reject(statusFromBody(res.statusCode ?? 502, body)));
        });
        upstream.once("error", (err) =>
          reject(new StatusError(500, "InternalError", `error dialing backend: ${err.message}`)),
        );
      });
      chosen.set(req, protocol);
      wss.handleUpgrade(req, socket, head, (client) => {
        log.debug({ pod: `${ns}/${name}`, sub, protocol }, "proxying to kubelet");
        client.on("message", (data, isBinary) => {
          if (upstream.readyState === upstream.OPEN) upstream.send(data as Buffer, { binary: isBinary });
        });
        upstream.on("message", (data, isBinary) => {
          if (client.readyState === client.OPEN) client.send(data as Buffer, { binary: isBinary });
        });
        const closeCode = (c: number) => (c === 1005 || c === 1006 || c < 1000 ? 1000 : c);
        client.on("close", (code) => upstream.close(closeCode(code)));
        upstream.on("close", (code) => client.close(closeCode(code)));
        client.on("error", (err) => {
          log.debug({ err, pod: `${ns}/${name}` }, "client side of the kubelet proxy failed");
          upstream.terminate();
        });
        upstream.on("error", (err) => {
          log.debug({ err, pod: `${ns}/${name}` }, "kubelet side of the kubelet proxy failed");
          client.terminate();
        });
      });
    })().catch((err) => {
      log.debug({ err, pod: `${ns}/${name}`, sub }, "kubelet proxy upgrade failed");
      rejectUpgrade(socket, err);
    });
    return true;
  });
}
