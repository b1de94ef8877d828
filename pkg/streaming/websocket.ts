// WebSocket plumbing shared by the API server's kubelet proxy, the kubelet's streaming server
// and the CLI: subprotocol negotiation on the server side (ws refuses "SPDY/3.1+portforward.k8s.io"
// as a token because of its "/"), the dial on the client side (refusals come back as the
// server's Status), HTTP refusals of an upgrade, and a WebSocket as a byte stream.

import { type IncomingMessage, STATUS_CODES } from "node:http";
import { Duplex } from "node:stream";
import { type ClientOptions, WebSocket, WebSocketServer } from "ws";
import { badRequest, isStatusError, StatusError, statusErrorFromBody } from "../api/errors.js";

/** A WebSocket's binary messages as a byte stream (SPDY frames may span messages). */
export function wsDuplex(ws: WebSocket): Duplex {
  const d = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== ws.OPEN) return cb();
      ws.send(chunk, { binary: true }, (err) => cb(err ?? undefined));
    },
    final(cb) {
      ws.close(1000);
      cb();
    },
  });
  ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
    d.push(asBuffer(data));
  });
  ws.on("close", () => d.push(null));
  ws.on("error", (err) => d.destroy(err));
  return d;
}

/** A ws message (Buffer, ArrayBuffer or fragments) as one Buffer. */
export function asBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  return Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
}

/** Answers a refused upgrade on the raw socket with the error's Status (500 for non-StatusErrors). */
export function rejectUpgrade(socket: Duplex, err: unknown): void {
  if (socket.destroyed) return;
  const e = isStatusError(err) ? err : new StatusError(500, "InternalError", (err as Error)?.message ?? String(err));
  const body = JSON.stringify(e.toStatus());
  socket.end(
    `HTTP/1.1 ${e.code} ${STATUS_CODES[e.code] ?? ""}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The subprotocols a client offered in Sec-WebSocket-Protocol. */
export function offeredProtocols(req: IncomingMessage): string[] {
  return String(req.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/**
 * A WebSocketServer (no HTTP server of its own) that negotiates subprotocols itself: negotiate()
 * takes the header off the request, so ws does not check it, and the chosen protocol is written
 * into the 101 by ws's "headers" hook.
 */
export class WebSocketUpgrader {
  readonly #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  readonly #chosen = new WeakMap<IncomingMessage, string>();

  constructor() {
    this.#wss.on("headers", (headers, req) => {
      const p = this.#chosen.get(req);
      if (p) headers.push(`Sec-WebSocket-Protocol: ${p}`);
    });
  }

  /**
   * The first of `supported` the client offered. Throws a 400 StatusError when it offered none of
   * them, or offered nothing and `required` is set.
   */
  negotiate(req: IncomingMessage, supported: readonly string[], o: { required: boolean }): string | undefined {
    const offered = offeredProtocols(req);
    delete req.headers["sec-websocket-protocol"];
    const p = supported.find((x) => offered.includes(x));
    if (!p && (o.required || offered.length > 0))
      throw badRequest(`unsupported subprotocols ${JSON.stringify(offered)}; want one of ${JSON.stringify(supported)}`);
    if (p) this.#chosen.set(req, p);
    return p;
  }

  /** Completes the upgrade (with the protocol negotiate() chose, if any). */
  accept(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: WebSocket) => void): void {
    this.#wss.handleUpgrade(req, socket, head, cb);
  }

  /** Drops every open session (server shutdown). */
  terminateAll(): void {
    for (const c of this.#wss.clients) c.terminate();
  }
}

/** RFC 7230 token: what ws accepts as a subprotocol name. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

export type DialOptions = Pick<ClientOptions, "headers" | "ca" | "cert" | "key" | "rejectUnauthorized">;

/**
 * Opens a WebSocket offering `protocols` and resolves once it is open, with the protocol the
 * server chose. A refused upgrade rejects with the server's answer as StatusError; a server that
 * chose none of a non-empty `protocols` rejects with an Error; so does an unreachable one.
 */
export function dialWebSocket(
  url: string,
  protocols: readonly string[],
  o: DialOptions = {},
): Promise<{ ws: WebSocket; protocol: string }> {
  const byHand = !protocols.every((p) => TOKEN.test(p));
  let echoed = "";
  const ws = byHand
    ? new WebSocket(url, {
        ...o,
        headers: { ...o.headers, "sec-websocket-protocol": protocols.join(", ") },
        perMessageDeflate: false,
      })
    : new WebSocket(url, [...protocols], { ...o, perMessageDeflate: false });
  if (byHand) {
    // Hide the echo from ws's own check, which reads res.headers after emitting "upgrade".
    ws.on("upgrade", (res) => {
      echoed = String(res.headers["sec-websocket-protocol"] ?? "");
      delete res.headers["sec-websocket-protocol"];
    });
  }
  return new Promise((resolve, reject) => {
    ws.once("unexpected-response", (_req, res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        text += c;
      });
      const fail = () => reject(statusErrorFromBody(res.statusCode ?? 500, text));
      res.on("end", fail);
      res.on("error", fail);
    });
    ws.once("error", reject);
    ws.once("open", () => {
      ws.off("error", reject);
      const protocol = byHand ? echoed : ws.protocol;
      if (protocols.length > 0 && !protocols.includes(protocol)) {
        ws.terminate();
        reject(new Error(`invalid protocol, expected one of ${JSON.stringify(protocols)}, got "${protocol}"`));
        return;
      }
      resolve({ ws, protocol });
    });
  });
}
