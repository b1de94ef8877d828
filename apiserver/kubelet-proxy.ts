// Kubelet proxy: pods/{name}/log, pods/{name}/exec, pods/{name}/attach and pods/{name}/portforward are served by the
// kubelet of the pod's node (upstream: pkg/registry/core/pod/rest/{log,subresources}.go). The
// API server authenticates the request, finds the node's kubelet (its preferred address +
// daemonEndpoints.kubeletEndpoint.Port, HTTPS with the API server's kubelet-client certificate:
// kubelet-client.ts) and pipes bytes: a chunked HTTP stream for logs, WebSocket frames both ways
// for exec, attach and port-forward (plain SPDY/3.1 from older clients is bridged: spdy-upgrade.ts).
// Mount: buildServer({ ..., registerKubeletProxy }) — its dependency on the server is the small
// KubeletProxyContext (a registry view, a logger, addUpgradeHandler).

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { request } from "undici";
import type { WebSocket } from "ws";
import { badRequest, isStatusError, StatusError, statusErrorFromBody } from "#pkg/api/errors.js";
import { NODES, PODS, type ResourceInfo } from "#pkg/api/resources.js";
import type { Node, Pod } from "#pkg/api/types/index.js";
import type { Logger } from "#pkg/runtime/log.js";
import {
  EXEC_PROTOCOLS,
  PORT_FORWARD_PROTOCOLS,
  PORT_FORWARD_WEBSOCKET_PROTOCOL,
  STREAM_PROTOCOL_V5,
} from "#pkg/streaming/protocols.js";
import { dialWebSocket, rejectUpgrade, WebSocketUpgrader } from "#pkg/streaming/websocket.js";
import type { KubeletClient } from "./kubelet-client.js";
import {
  bridgeSpdyExec,
  bridgeSpdyPortForward,
  expectedExecStreams,
  isSpdyUpgrade,
  negotiateSpdy,
  SPDY_EXEC_PROTOCOL,
  SPDY_PORT_FORWARD_PROTOCOL,
} from "./spdy-upgrade.js";

/** The one thing the proxy needs from the API server besides routes and upgrades. */
export interface KubeletProxyLookup {
  getPod(ns: string, name: string): Promise<Pod>;
  getNode(name: string): Promise<Node>;
}

/** Structural copy of apiserver/server.ts KubeletProxyContext (kept structural to stay decoupled). */
export interface KubeletProxyContextLike {
  registry: {
    store(r: ResourceInfo): {
      get(ns: string | undefined, name: string): Promise<unknown>;
    };
  };
  log: Logger;
  addUpgradeHandler(h: (req: IncomingMessage, socket: Duplex, head: Buffer, user: unknown) => boolean): void;
}

const POD_SUB = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|portforward|attach)$/;

export function lookupFromRegistry(ctx: KubeletProxyContextLike): KubeletProxyLookup {
  return {
    getPod: async (ns, name) => (await ctx.registry.store(PODS).get(ns, name)) as Pod,
    getNode: async (name) => (await ctx.registry.store(NODES).get(undefined, name)) as Node,
  };
}

/** kubeletBase: "https://<address>:<port>" of the kubelet of the node that runs the pod. */
export async function kubeletBase(lookup: KubeletProxyLookup, kubelets: KubeletClient, pod: Pod): Promise<string> {
  const nodeName = pod.spec?.nodeName;
  if (!nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
  return kubelets.baseURL(await lookup.getNode(nodeName));
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

/** The kubelet's refusal as the client's error; an answer that is no error at all is a bad gateway. */
function backendError(code: number, body: string): StatusError {
  return statusErrorFromBody(code >= 400 ? code : 502, body);
}

function dialError(err: unknown): StatusError {
  if (isStatusError(err)) return err.code >= 400 ? err : new StatusError(502, "InternalError", err.message);
  return new StatusError(500, "InternalError", `error dialing backend: ${(err as Error).message}`);
}

/**
 * portForwardPorts: PodPortForwardOptions.ports from the query, as upstream's
 * Convert_Slice_string_To_Slice_int32: repeated or comma-separated, each a uint16.
 */
export function portForwardPorts(q: URLSearchParams): number[] {
  const ports: number[] = [];
  for (const v of q.getAll("ports"))
    for (const p of v.split(",")) {
      const n = /^\d+$/.test(p) ? Number(p) : Number.NaN;
      if (!(n <= 65535)) {
        const why = Number.isNaN(n) ? "invalid syntax" : "value out of range";
        throw badRequest(`cannot convert to []int32: strconv.ParseUint: parsing "${p}": ${why}`);
      }
      ports.push(n);
    }
  return ports;
}

const LOG_PARAMS = ["follow", "previous", "tailLines", "timestamps", "sinceSeconds", "limitBytes"];

/**
 * registerKubeletProxy installs the log route and the exec/portforward upgrade handler.
 * `lookup` defaults to reading pods and nodes from ctx.registry.
 */
export function registerKubeletProxy(
  app: FastifyInstance,
  ctx: KubeletProxyContextLike,
  kubelets: KubeletClient,
  lookup: KubeletProxyLookup = lookupFromRegistry(ctx),
): void {
  const log = ctx.log;
  const upgrader = new WebSocketUpgrader();
  app.addHook("onClose", (_i, done) => {
    upgrader.terminateAll();
    kubelets.close().then(
      () => done(),
      () => done(),
    );
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
      const base = await kubeletBase(lookup, kubelets, pod);
      const qs = new URLSearchParams();
      for (const p of LOG_PARAMS) {
        const v = req.query[p];
        if (v !== undefined) qs.set(p, v);
      }
      const url = `${base}/containerLogs/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}?${qs}`;
      const abort = new AbortController();
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(url, {
          dispatcher: kubelets.dispatcher,
          signal: abort.signal,
          headersTimeout: 30_000,
          bodyTimeout: 0,
        });
      } catch (err) {
        throw new StatusError(500, "InternalError", `error dialing backend: ${(err as Error).message}`);
      }
      if (res.statusCode !== 200) throw backendError(res.statusCode, await res.body.text());
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
      const pod = await lookup.getPod(ns, name);
      const base = (await kubeletBase(lookup, kubelets, pod)).replace(/^https/, "wss");
      // attach speaks exec's stream protocols (upstream: remotecommand serves both).
      const streams = sub === "exec" || sub === "attach";
      let target: string;
      if (streams) {
        const container = containerName(pod, url.searchParams.get("container") ?? undefined);
        const qs = new URLSearchParams(url.searchParams);
        qs.delete("container");
        target = `${base}/${sub}/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}?${qs}`;
      } else {
        // upstream's PortForwardLocation: the ports travel to the kubelet as one `port` parameter.
        const ports = portForwardPorts(url.searchParams);
        const qs = ports.length > 0 ? `?${new URLSearchParams({ port: ports.join(",") })}` : "";
        target = `${base}/portForward/${encodeURIComponent(ns)}/${encodeURIComponent(name)}${qs}`;
      }
      if (isSpdyUpgrade(req)) {
        // kubectl 1.27–1.29: plain SPDY/3.1, bridged onto the kubelet's WebSocket endpoint.
        negotiateSpdy(req, streams ? SPDY_EXEC_PROTOCOL : SPDY_PORT_FORWARD_PROTOCOL);
        let kubelet: WebSocket;
        try {
          kubelet = (
            await dialWebSocket(target, [streams ? STREAM_PROTOCOL_V5 : PORT_FORWARD_WEBSOCKET_PROTOCOL], kubelets.tls)
          ).ws;
        } catch (err) {
          throw dialError(err);
        }
        log.debug({ pod: `${ns}/${name}`, sub, protocol: "SPDY/3.1" }, "proxying to kubelet");
        const bridgeLog = log.child({ pod: `${ns}/${name}`, sub });
        // exec and attach: the streams the client asked for in the query (stdin, stdout, stderr, tty).
        if (streams) bridgeSpdyExec(socket, head, kubelet, bridgeLog, expectedExecStreams(url.searchParams));
        else bridgeSpdyPortForward(socket, head, kubelet, bridgeLog);
        return;
      }
      // Port-forward without a subprotocol is the binary channel protocol, as upstream's kubelet
      // serves it; the kubelet gets the protocol the client chose, and so the same framing.
      const protocol = streams
        ? (upgrader.negotiate(req, EXEC_PROTOCOLS, { required: true }) ?? "")
        : (upgrader.negotiate(req, PORT_FORWARD_PROTOCOLS, { required: false }) ?? "");
      let upstream: WebSocket;
      try {
        upstream = (await dialWebSocket(target, protocol ? [protocol] : [], kubelets.tls)).ws;
      } catch (err) {
        throw dialError(err);
      }
      let client: WebSocket | undefined;
      upstream.on("error", (err) => {
        log.debug({ err, pod: `${ns}/${name}` }, "kubelet side of the kubelet proxy failed");
        client?.terminate();
      });
      upgrader.accept(req, socket, head, (ws) => {
        client = ws;
        log.debug({ pod: `${ns}/${name}`, sub, protocol }, "proxying to kubelet");
        ws.on("message", (data, isBinary) => {
          if (upstream.readyState === upstream.OPEN) upstream.send(data as Buffer, { binary: isBinary });
        });
        upstream.on("message", (data, isBinary) => {
          if (ws.readyState === ws.OPEN) ws.send(data as Buffer, { binary: isBinary });
        });
        const closeCode = (c: number) => (c === 1005 || c === 1006 || c < 1000 ? 1000 : c);
        ws.on("close", (code) => upstream.close(closeCode(code)));
        upstream.on("close", (code) => ws.close(closeCode(code)));
        ws.on("error", (err) => {
          log.debug({ err, pod: `${ns}/${name}` }, "client side of the kubelet proxy failed");
          upstream.terminate();
        });
      });
    })().catch((err) => {
      log.debug({ err, pod: `${ns}/${name}`, sub }, "kubelet proxy upgrade failed");
      rejectUpgrade(socket, err);
    });
    return true;
  });
}
