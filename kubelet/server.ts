// The kubelet's own server (upstream: pkg/kubelet/server). HTTPS only on --address:--port, with
// the serving certificate of --tls-cert-file (or a self-signed one), and every request
// authenticated and authorized before it is served (kubelet/auth.ts): the API server comes with
// its kubelet-client certificate, anyone else with a token the API server vouches for and a
// grant on nodes/proxy (nodes/stats, nodes/metrics, nodes/log...). There is no read-only port.
//   GET /healthz /livez /readyz (pods synced) /metrics   pkg/runtime/health-server.ts's healthHandler
//   GET /stats/summary   CPU/memory per pod and container (upstream Summary API shape)
//   GET /containerLogs/{ns}/{pod}/{container}?follow&tailLines&previous&timestamps&sinceSeconds
//   GET /exec/{ns}/{pod}/{container}?command=..&stdin&stdout&stderr&tty   WebSocket v5/v4.channel.k8s.io
//   GET /attach/{ns}/{pod}/{container}?stdin&stdout&stderr&tty            the same, to the main process
//   GET /portForward/{ns}/{pod}   WebSocket SPDY/3.1+portforward.k8s.io, or ?port=..
//       with v4.channel.k8s.io, v4.base64.channel.k8s.io or no subprotocol (channels per port)
// Refusals are upstream's plain-text answers: 401 "Unauthorized", 403 "Forbidden (user=...,
// verb=..., resource=nodes, subresource(s)=[proxy])".

import type http from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import { badRequest, isStatusError, StatusError } from "#pkg/api/errors.js";
import { parseBool } from "#pkg/api/strconv.js";
import type { Pod } from "#pkg/api/types/index.js";
import { type HealthHandlerOptions, healthHandler, type RequestHandler } from "#pkg/runtime/health-server.js";
import type { Logger } from "#pkg/runtime/log.js";
import type { RequestAuthenticator } from "#pkg/server/authentication.js";
import type { RequestAuthorizer } from "#pkg/server/authorization.js";
import { SecureServer, type ServingCert } from "#pkg/server/serving.js";
import {
  Channel,
  EXEC_PROTOCOLS,
  frame,
  PORT_FORWARD_PROTOCOLS,
  PORT_FORWARD_WEBSOCKET_PROTOCOL,
  parseFrame,
  STREAM_PROTOCOL_V4_BASE64,
  STREAM_PROTOCOL_V5,
} from "#pkg/streaming/protocols.js";
import { asBuffer, rejectUpgrade, WebSocketUpgrader } from "#pkg/streaming/websocket.js";
import { authorizationErrorText, forbiddenText, nodeRequestAttributes } from "./auth.js";
import { portForwardPorts, serveChannelPortForward, servePortForward } from "./portforward.js";
import type { ContainerInfo, ExecSession, Runtime } from "./runtime/runtime.js";

/** What the server needs from the kubelet. */
export interface KubeletView {
  getPod(ns: string, name: string): Pod | undefined;
  containerFor(pod: Pod, container: string, previous?: boolean): Promise<ContainerInfo | undefined>;
  podIP(pod: Pod): Promise<string | undefined>;
  summary(): Promise<object>;
}

/** Which of a stream session's streams the client asked for (exec and attach). */
interface StreamFlags {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The streams an exec or an attach has in common. */
type StreamSession = Pick<ExecSession, "stdin" | "stdout" | "stderr" | "resize" | "close">;

/** The --authorization-mode=AlwaysAllow authorizer. */
export const ALWAYS_ALLOW: RequestAuthorizer = { authorize: () => ({ decision: "Allow", reason: "" }) };

/** A refusal of the auth filter: upstream's plain-text answer. */
interface Refusal {
  code: number;
  text: string;
}

function sendError(res: http.ServerResponse, err: unknown): void {
  const e = isStatusError(err) ? err : new StatusError(500, "InternalError", (err as Error).message);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(e.code, { "Content-Type": "application/json" });
  res.end(JSON.stringify(e.toStatus()));
}

function sendRefusal(res: http.ServerResponse, r: Refusal): void {
  res.writeHead(r.code, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(r.text) });
  res.end(r.text);
}

/** The refusal of an upgrade (exec, port-forward) as an HTTP answer on the raw socket. */
function refuseUpgrade(socket: Duplex, r: Refusal): void {
  const reason = r.code === 401 ? "Unauthorized" : r.code === 403 ? "Forbidden" : "Internal Server Error";
  socket.end(
    `HTTP/1.1 ${r.code} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(r.text)}\r\nConnection: close\r\n\r\n${r.text}`,
  );
}

/**
 * bool: whether any of the named boolean parameters is set, in strconv.ParseBool's spellings (the
 * Python client sends `stdout=True`), a bare `?tty` true; another value is a 400, never read as false.
 */
function bool(q: URLSearchParams, ...names: string[]): boolean {
  let on = false;
  for (const n of names) {
    const v = q.get(n);
    if (v === null) continue;
    const b = v === "" ? true : parseBool(v);
    if (b === undefined) throw badRequest(`invalid value for ${n}: "${v}" (must be true or false)`);
    on ||= b;
  }
  return on;
}

export interface KubeletServerOptions {
  kubelet: KubeletView;
  runtime: Runtime;
  log: Logger;
  /** The Node the kubelet runs: the name every request is authorized against. */
  nodeName: string;
  /** The serving certificate, and the CA bundle client certificates are verified against. */
  tls: { cert: ServingCert; clientCA?: string | undefined };
  /** Who the caller is (x509, TokenReview, anonymous) and whether it may (Webhook or AlwaysAllow). */
  authenticator: RequestAuthenticator;
  authorizer: RequestAuthorizer;
  /** /healthz /livez /readyz /metrics: the process's registry and checks. */
  health: HealthHandlerOptions;
}

export class KubeletServer {
  readonly #secure: SecureServer;
  private readonly upgrader = new WebSocketUpgrader();
  private readonly log: Logger;
  private readonly health: RequestHandler;

  constructor(private readonly o: KubeletServerOptions) {
    this.log = o.log.child({ module: "server" });
    this.health = healthHandler(o.health);
    this.#secure = new SecureServer({
      cert: o.tls.cert,
      clientCA: o.tls.clientCA,
      handler: (req, res) => {
        this.admitted(req)
          .then((refusal) => {
            if (refusal) return sendRefusal(res, refusal);
            return this.handle(req, res);
          })
          .catch((err) => sendError(res, err));
      },
      upgrade: (req, socket, head) => {
        this.admitted(req)
          .then((refusal) => {
            if (refusal) return refuseUpgrade(socket, refusal);
            return this.upgrade(req, socket, head);
          })
          .catch((err) => rejectUpgrade(socket, err));
      },
    });
  }

  async listen(port: number, host = "0.0.0.0"): Promise<number> {
    return this.#secure.listen(port, host);
  }

  async close(): Promise<void> {
    this.upgrader.terminateAll();
    await this.#secure.close();
  }

  /** upstream InstallAuthFilter: undefined when the request may go on, else the answer it gets. */
  private async admitted(req: http.IncomingMessage): Promise<Refusal | undefined> {
    const authn = await this.o.authenticator.authenticateRequest({ headers: req.headers, socket: req.socket });
    if (!authn || !("user" in authn)) {
      if (authn) this.log.info({ err: authn.error }, "Unable to authenticate the request due to an error");
      return { code: 401, text: "Unauthorized" };
    }
    const path = new URL(req.url ?? "/", "https://kubelet").pathname;
    const attrs = nodeRequestAttributes(authn.user, req.method ?? "", path, this.o.nodeName);
    for (const a of attrs) {
      const d = await this.o.authorizer.authorize(a);
      if (d.error) {
        this.log.error(
          { err: d.error, user: a.user.name, verb: a.verb, subresource: a.subresource },
          "Authorization error",
        );
        return { code: 500, text: authorizationErrorText(a) };
      }
      if (d.decision === "Allow") return undefined;
    }
    this.log.debug({ user: authn.user.name, path, subresources: attrs.map((a) => a.subresource) }, "Forbidden");
    return { code: 403, text: forbiddenText(attrs) };
  }

  private pod(ns: string, name: string): Pod {
    const pod = this.o.kubelet.getPod(ns, name);
    if (!pod) throw new StatusError(404, "NotFound", `pod "${name}" not found on this node`);
    return pod;
  }

  private async container(pod: Pod, name: string, previous: boolean): Promise<ContainerInfo> {
    const all = [
      ...(pod.spec?.containers ?? []),
      ...(pod.spec?.initContainers ?? []),
      ...(pod.spec?.ephemeralContainers ?? []),
    ];
    if (!all.some((c) => c.name === name))
      throw badRequest(`container ${name} is not valid for pod ${pod.metadata.name}`);
    const c = await this.o.kubelet.containerFor(pod, name, previous);
    if (!c) {
      if (previous) throw badRequest(`previous terminated container "${name}" in pod "${pod.metadata.name}" not found`);
      throw badRequest(`container "${name}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`);
    }
    return c;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://kubelet");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (this.health(req, res)) return;
    if (url.pathname === "/stats/summary") {
      const body = JSON.stringify(await this.o.kubelet.summary());
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(body);
      return;
    }
    if (req.method === "GET" && parts[0] === "containerLogs" && parts.length === 4) {
      const [, ns = "", name = "", cname = ""] = parts;
      const q = url.searchParams;
      const pod = this.pod(ns, name);
      const c = await this.container(pod, cname, bool(q, "previous"));
      const tail = q.get("tailLines");
      const since = q.get("sinceSeconds");
      const follow = bool(q, "follow") && !bool(q, "previous");
      const abort = new AbortController();
      const stream = await this.o.runtime.logs(c.id, {
        follow,
        timestamps: bool(q, "timestamps"),
        ...(tail !== null && Number(tail) >= 0 ? { tailLines: Number(tail) } : {}),
        ...(since !== null && Number(since) > 0 ? { sinceSeconds: Number(since) } : {}),
        signal: abort.signal,
      });
      res.writeHead(200, { "Content-Type": "text/plain", "Transfer-Encoding": "chunked" });
      res.flushHeaders();
      stream.pipe(res);
      res.on("close", () => {
        abort.abort();
        stream.destroy();
      });
      return;
    }
    throw new StatusError(404, "NotFound", `no route for ${req.method} ${url.pathname}`);
  }

  private async upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "http://kubelet");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if ((parts[0] === "exec" || parts[0] === "attach") && parts.length === 4) {
      const [kind, ns = "", name = "", cname = ""] = parts;
      const pod = this.pod(ns, name);
      const c = await this.container(pod, cname, false);
      if (c.state !== "running") throw badRequest(`container ${cname} is not running (state ${c.state})`);
      const q = url.searchParams;
      const cmd = q.getAll("command");
      if (kind === "exec" && cmd.length === 0) throw badRequest("you must specify at least 1 command");
      const streams: StreamFlags = {
        stdin: bool(q, "stdin", "input"),
        stdout: q.get("stdout") === null && q.get("output") === null ? true : bool(q, "stdout", "output"),
        stderr: bool(q, "stderr", "error"),
        tty: bool(q, "tty"),
      };
      const protocol = this.upgrader.negotiate(req, EXEC_PROTOCOLS, { required: true });
      this.upgrader.accept(req, socket, head, (ws) => {
        const v5 = protocol === STREAM_PROTOCOL_V5;
        if (kind === "exec") void this.exec(ws, v5, c.id, cmd, streams);
        else void this.attach(ws, v5, c.id, streams);
      });
      return;
    }
    if (parts[0]?.toLowerCase() === "portforward" && parts.length === 3) {
      const [, ns = "", name = ""] = parts;
      const pod = this.pod(ns, name);
      const ip = await this.o.kubelet.podIP(pod);
      if (!ip) throw badRequest(`pod ${name} has no running sandbox`);
      const protocol = this.upgrader.negotiate(req, PORT_FORWARD_PROTOCOLS, { required: false }) ?? "";
      // The channel protocols (and no protocol, as upstream) name their ports in the request.
      const ports = protocol === PORT_FORWARD_WEBSOCKET_PROTOCOL ? [] : portForwardPorts(url.searchParams);
      this.upgrader.accept(req, socket, head, (ws) => {
        this.log.debug({ pod: `${ns}/${name}`, protocol, ports }, "port-forward session");
        try {
          if (protocol === PORT_FORWARD_WEBSOCKET_PROTOCOL) servePortForward(ws, ip, this.log);
          else
            serveChannelPortForward(
              ws,
              ip,
              ports,
              { base64: protocol === STREAM_PROTOCOL_V4_BASE64, pod: `${ns}/${name}`, uid: pod.metadata.uid ?? "" },
              this.log,
            );
        } catch (err) {
          // The 101 is out: report by closing the WebSocket, never with an HTTP answer.
          this.log.error({ err }, "port-forward session failed");
          ws.close(1011, "internal error");
        }
      });
      return;
    }
    throw new StatusError(404, "NotFound", `no upgrade route for ${url.pathname}`);
  }

  /** exec runs a command and speaks the channel.k8s.io framing (KUBECTL_WIRE 3.2) on ws. */
  private async exec(ws: WebSocket, v5: boolean, containerId: string, cmd: string[], o: StreamFlags): Promise<void> {
    await this.serveStreams(
      ws,
      v5,
      o,
      () => this.o.runtime.exec(containerId, { cmd, stdin: o.stdin, tty: o.tty }),
      async (s) => {
        const code = await s.wait();
        if (code === 0) return { status: "Success" };
        return {
          status: "Failure",
          reason: "NonZeroExitCode",
          message: `command terminated with non-zero exit code: error executing command [${cmd.join(" ")}], exit code ${code}`,
          details: { causes: [{ reason: "ExitCode", message: String(code) }] },
        };
      },
    );
  }

  /**
   * attach joins the container's main process (upstream ServeAttach) with the same framing:
   * the session ends, with a Success status, when the process exits or the client detaches.
   */
  private async attach(ws: WebSocket, v5: boolean, containerId: string, o: StreamFlags): Promise<void> {
    await this.serveStreams(
      ws,
      v5,
      o,
      () => this.o.runtime.attach(containerId, { stdin: o.stdin, tty: o.tty }),
      async (s) => {
        await s.wait();
        return { status: "Success" };
      },
    );
  }

  /**
   * serveStreams carries a session's stdin, stdout, stderr and resizes over the channel framing,
   * and ends with the Status `done` resolves to on the error channel.
   */
  private async serveStreams<S extends StreamSession>(
    ws: WebSocket,
    v5: boolean,
    o: StreamFlags,
    open: () => Promise<S>,
    done: (s: S) => Promise<object>,
  ): Promise<void> {
    const send = (ch: Channel, data: Buffer | string) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(frame(ch, data), { binary: true });
    };
    const finish = (status: object) => {
      send(Channel.Error, JSON.stringify({ metadata: {}, ...status }));
      ws.close(1000);
    };
    // kubectl sends stdin (and its close) right after the 101, before the session exists: queue
    // messages until the session is ready.
    const early: Buffer[] = [];
    let onMessage: ((data: Buffer) => void) | undefined;
    ws.on("message", (data: Buffer) => {
      if (onMessage) onMessage(data);
      else early.push(data);
    });
    try {
      const s = await open();
      if (o.stdout) s.stdout.on("data", (b: Buffer) => send(Channel.Stdout, b));
      else s.stdout.resume();
      if (o.stderr) s.stderr.on("data", (b: Buffer) => send(Channel.Stderr, b));
      else s.stderr.resume();
      onMessage = (data: Buffer) => {
        const f = parseFrame(asBuffer(data));
        if (!f) return;
        const { channel: ch, payload } = f;
        if (ch === Channel.Stdin && s.stdin) s.stdin.write(payload);
        else if (ch === Channel.Resize) {
          try {
            const r = JSON.parse(payload.toString()) as { Width?: number; Height?: number };
            if (r.Width && r.Height) void s.resize(r.Width, r.Height);
          } catch {
            // ignore a malformed resize
          }
        } else if (ch === Channel.Close && v5 && payload[0] === Channel.Stdin) s.stdin?.end();
      };
      for (const m of early.splice(0)) onMessage(m);
      ws.on("close", () => s.close());
      const status = await done(s);
      // Let the last output frames go out before the status frame.
      await new Promise((r) => setImmediate(r));
      finish(status);
    } catch (err) {
      finish({ status: "Failure", reason: "InternalError", message: (err as Error).message });
    }
  }
}
