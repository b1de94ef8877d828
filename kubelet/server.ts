// The kubelet's own server (upstream: pkg/kubelet/server). Plain HTTP on --address:--port:
// the API server proxies log/exec/portforward here, so, as upstream, this port must only be
// reachable by the API server (bind it to a private address; there is no auth of its own).
//   GET /healthz, GET /metrics (Prometheus text)
//   GET /stats/summary   CPU/memory per pod and container (upstream Summary API shape)
//   GET /containerLogs/{ns}/{pod}/{container}?follow&tailLines&previous&timestamps&sinceSeconds
//   GET /exec/{ns}/{pod}/{container}?command=..&stdin&stdout&stderr&tty   WebSocket v5/v4.channel.k8s.io
//   GET /portForward/{ns}/{pod}                                         WebSocket SPDY/3.1+portforward.k8s.io

import http from "node:http";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import type { Pod } from "#pkg/api/types/index.js";
import type { Logger } from "#pkg/runtime/log.js";
import { servePortForward } from "./portforward.js";
import type { ContainerInfo, Runtime } from "./runtime/runtime.js";

export const EXEC_PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];
export const PORT_FORWARD_PROTOCOL = "SPDY/3.1+portforward.k8s.io";

/** What the server needs from the kubelet. */
export interface KubeletView {
  getPod(ns: string, name: string): Pod | undefined;
  containerFor(pod: Pod, container: string, previous?: boolean): Promise<ContainerInfo | undefined>;
  podIP(pod: Pod): Promise<string | undefined>;
  summary(): Promise<object>;
  metricsText(): Promise<string>;
}

class HttpError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function statusBody(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });
}

function sendError(res: http.ServerResponse, err: unknown): void {
  const e = err instanceof HttpError ? err : new HttpError(500, "InternalError", (err as Error).message);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(e.code, { "Content-Type": "application/json" });
  res.end(statusBody(e.code, e.reason, e.message));
}

function rejectUpgrade(socket: import("node:stream").Duplex, err: unknown): void {
  const e = err instanceof HttpError ? err : new HttpError(500, "InternalError", (err as Error).message);
  const body = statusBody(e.code, e.reason, e.message);
  socket.end(
    `HTTP/1.1 ${e.code} ${http.STATUS_CODES[e.code] ?? ""}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

const bool = (v: string | null) => v === "true" || v === "1";

export interface KubeletServerOptions {
  kubelet: KubeletView;
  runtime: Runtime;
  log: Logger;
}

export class KubeletServer {
  readonly server: http.Server;
  // Subprotocols are negotiated here, not by ws: "SPDY/3.1+portforward.k8s.io" contains a "/",
  // which ws rejects as an invalid token, so the header is taken off the request and the chosen
  // protocol is written back in the 101 by the "headers" hook.
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly chosen = new WeakMap<http.IncomingMessage, string>();
  private readonly log: Logger;

  constructor(private readonly o: KubeletServerOptions) {
    this.log = o.log.child({ module: "server" });
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err) => sendError(res, err));
    });
    this.wss.on("headers", (headers, req) => {
      const p = this.chosen.get(req);
      if (p) headers.push(`Sec-WebSocket-Protocol: ${p}`);
    });
    this.server.on("upgrade", (req, socket, head) => {
      this.upgrade(req, socket, head).catch((err) => rejectUpgrade(socket, err));
    });
  }

  async listen(port: number, host = "0.0.0.0"): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve());
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pod(ns: string, name: string): Pod {
    const pod = this.o.kubelet.getPod(ns, name);
    if (!pod) throw new HttpError(404, "NotFound", `pod "${name}" not found on this node`);
    return pod;
  }

  private async container(pod: Pod, name: string, previous: boolean): Promise<ContainerInfo> {
    const all = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
    if (!all.some((c) => c.name === name))
      throw new HttpError(400, "BadRequest", `container ${name} is not valid for pod ${pod.metadata.name}`);
    const c = await this.o.kubelet.containerFor(pod, name, previous);
    if (!c) {
      if (previous)
        throw new HttpError(
          400,
          "BadRequest",
          `previous terminated container "${name}" in pod "${pod.metadata.name}" not found`,
        );
      throw new HttpError(
        400,
        "BadRequest",
        `container "${name}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`,
      );
    }
    return c;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://kubelet");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (url.pathname === "/healthz") {
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("ok");
      return;
    }
    if (url.pathname === "/metrics") {
      const text = await this.o.kubelet.metricsText();
      res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4" });
      res.end(text);
      return;
    }
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
      const c = await this.container(pod, cname, bool(q.get("previous")));
      const tail = q.get("tailLines");
      const since = q.get("sinceSeconds");
      const follow = bool(q.get("follow")) && !bool(q.get("previous"));
      const abort = new AbortController();
      const stream = await this.o.runtime.logs(c.id, {
        follow,
        timestamps: bool(q.get("timestamps")),
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
    throw new HttpError(404, "NotFound", `no route for ${req.method} ${url.pathname}`);
  }

  /** negotiate picks the first supported offered subprotocol and hides the header from ws. */
  private negotiate(req: http.IncomingMessage, supported: string[], required: boolean): string | undefined {
    const offered = String(req.headers["sec-websocket-protocol"] ?? "")
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
    delete req.headers["sec-websocket-protocol"];
    const p = supported.find((x) => offered.includes(x));
    if (!p && (required || offered.length > 0))
      throw new HttpError(
        400,
        "BadRequest",
        `unsupported subprotocols ${JSON.stringify(offered)}; want one of ${JSON.stringify(supported)}`,
      );
    if (p) this.chosen.set(req, p);
    return p;
  }

  private async upgrade(req: http.IncomingMessage, socket: import("node:stream").Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", "http://kubelet");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts[0] === "exec" && parts.length === 4) {
      const [, ns = "", name = "", cname = ""] = parts;
      const pod = this.pod(ns, name);
      const c = await this.container(pod, cname, false);
      if (c.state !== "running")
        throw new HttpError(400, "BadRequest", `container ${cname} is not running (state ${c.state})`);
      const q = url.searchParams;
      const cmd = q.getAll("command");
      if (cmd.length === 0) throw new HttpError(400, "BadRequest", "you must specify at least 1 command");
      const protocol = this.negotiate(req, EXEC_PROTOCOLS, true);
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        void this.exec(ws, protocol === "v5.channel.k8s.io", c.id, cmd, {
          stdin: bool(q.get("stdin")) || bool(q.get("input")),
          stdout: q.get("stdout") === null ? true : bool(q.get("stdout")) || bool(q.get("output")),
          stderr: bool(q.get("stderr")) || bool(q.get("error")),
          tty: bool(q.get("tty")),
        });
      });
      return;
    }
    if (parts[0]?.toLowerCase() === "portforward" && parts.length === 3) {
      const [, ns = "", name = ""] = parts;
      const pod = this.pod(ns, name);
      const ip = await this.o.kubelet.podIP(pod);
      if (!ip) throw new HttpError(400, "BadRequest", `pod ${name} has no running sandbox`);
      // Without a subprotocol (our API server's proxy) the stream is SPDY/3.1 all the same.
      this.negotiate(req, [PORT_FORWARD_PROTOCOL], false);
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.log.debug({ pod: `${ns}/${name}` }, "port-forward session");
        try {
          servePortForward(ws, ip, this.log);
        } catch (err) {
          // The 101 is out: report by closing the WebSocket, never with an HTTP answer.
          this.log.error({ err }, "port-forward session failed");
          ws.close(1011, "internal error");
        }
      });
      return;
    }
    throw new HttpError(404, "NotFound", `no upgrade route for ${url.pathname}`);
  }

  /** exec runs a command and speaks the channel.k8s.io framing (KUBECTL_WIRE 3.2) on ws. */
  private async exec(
    ws: WebSocket,
    v5: boolean,
    containerId: string,
    cmd: string[],
    o: { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean },
  ): Promise<void> {
    const send = (ch: number, data: Buffer | string) => {
      if (ws.readyState !== ws.OPEN) return;
      const b = typeof data === "string" ? Buffer.from(data) : data;
      ws.send(Buffer.concat([Buffer.from([ch]), b]), { binary: true });
    };
    const finish = (status: object) => {
      send(3, JSON.stringify({ metadata: {}, ...status }));
      ws.close(1000);
    };
    // kubectl sends stdin (and its close) right after the 101, before the exec exists: queue
    // messages until the session is ready.
    const early: Buffer[] = [];
    let onMessage: ((data: Buffer) => void) | undefined;
    ws.on("message", (data: Buffer) => {
      if (onMessage) onMessage(data);
      else early.push(data);
    });
    try {
      const s = await this.o.runtime.exec(containerId, { cmd, stdin: o.stdin, tty: o.tty });
      if (o.stdout) s.stdout.on("data", (b: Buffer) => send(1, b));
      else s.stdout.resume();
      if (o.stderr) s.stderr.on("data", (b: Buffer) => send(2, b));
      else s.stderr.resume();
      onMessage = (data: Buffer) => {
        const buf = Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer);
        if (buf.length === 0) return;
        const ch = buf[0];
        const payload = buf.subarray(1);
        if (ch === 0 && s.stdin) s.stdin.write(payload);
        else if (ch === 4) {
          try {
            const r = JSON.parse(payload.toString()) as { Width?: number; Height?: number };
            if (r.Width && r.Height) void s.resize(r.Width, r.Height);
          } catch {
            // ignore a malformed resize
          }
        } else if (ch === 255 && v5 && payload[0] === 0) s.stdin?.end();
      };
      for (const m of early.splice(0)) onMessage(m);
      ws.on("close", () => s.close());
      const code = await s.wait();
      // Let the last output frames go out before the status frame.
      await new Promise((r) => setImmediate(r));
      if (code === 0) finish({ status: "Success" });
      else
        finish({
          status: "Failure",
          reason: "NonZeroExitCode",
          message: `command terminated with non-zero exit code: error executing command [${cmd.join(" ")}], exit code ${code}`,
          details: { causes: [{ reason: "ExitCode", message: String(code) }] },
        });
    } catch (err) {
      finish({ status: "Failure", reason: "InternalError", message: (err as Error).message });
    }
  }
}
