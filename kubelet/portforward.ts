// Port-forward over SPDY/3.1 tunnelled in a WebSocket (KUBECTL_WIRE 3.3): kubectl opens, per
// local connection, an "error" and a "data" stream carrying headers port and requestid; the data
// stream is piped to podIP:port. SPDY framing is spdy-transport@3.0.0 with one shim: its parser
// insists on HTTP's :method/:path in SYN_STREAM, which port-forward streams do not carry.

import { createRequire } from "node:module";
import net from "node:net";
import { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { Logger } from "#pkg/runtime/log.js";

const require = createRequire(import.meta.url);

interface SpdyStream extends Duplex {
  id: number;
  headers: Record<string, string>;
  respond(status: number, headers: Record<string, string>, cb?: () => void): void;
}
interface SpdyConnection {
  start(version: number): void;
  on(ev: "stream", h: (s: SpdyStream) => void): void;
  on(ev: "error" | "close", h: (err?: Error) => void): void;
  end(cb?: () => void): void;
  destroyStreams?(err?: Error): void;
}
interface SpdyTransport {
  connection: {
    create(socket: Duplex, o: { protocol: string; isServer: boolean; autoSpdy31?: boolean }): SpdyConnection;
  };
}

let transport: SpdyTransport | undefined;
let shimmed = false;

type ParseKVs = (buf: unknown, cb: (err: Error | null, headers?: Record<string, string>) => void) => void;

/**
 * shimParser wraps the SPDY parser's header decoding (once, on the prototype of a live parser)
 * so SYN_STREAMs without :method/:path, as kubectl's port-forward sends them, are accepted.
 */
function shimParser(conn: SpdyConnection): void {
  if (shimmed) return;
  const parser = (conn as unknown as { _spdyState?: { parser?: object } })._spdyState?.parser;
  if (!parser) throw new Error("spdy-transport internals changed: no _spdyState.parser to shim");
  const proto = Object.getPrototypeOf(parser) as { parseKVs: ParseKVs };
  const orig = proto.parseKVs;
  proto.parseKVs = function (this: unknown, buf, cb) {
    orig.call(this, buf, (err, headers) => {
      if (!err && headers) {
        headers[":method"] ??= "GET";
        headers[":path"] ??= "/";
      }
      cb(err, headers);
    });
  };
  shimmed = true;
}

function spdy(): SpdyTransport {
  transport ??= require("spdy-transport") as SpdyTransport;
  return transport;
}

/** wsDuplex exposes a WebSocket's binary messages as a byte stream. */
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
    const buf = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    d.push(buf);
  });
  ws.on("close", () => d.push(null));
  ws.on("error", (err) => d.destroy(err));
  return d;
}

/**
 * servePortForward runs one port-forward session on an accepted WebSocket: streams come in
 * pairs (error, data) per request id; the data stream is connected to `host:port`.
 */
export function servePortForward(ws: WebSocket, host: string, log: Logger): void {
  const socket = wsDuplex(ws);
  const conn = spdy().connection.create(socket, { protocol: "spdy", isServer: true, autoSpdy31: true });
  shimParser(conn);
  conn.start(3.1);
  const errorStreams = new Map<string, SpdyStream>();
  conn.on("error", (err) => log.debug({ err }, "port-forward connection error"));
  conn.on("stream", (stream) => {
    const h = stream.headers;
    log.debug({ headers: h }, "port-forward stream");
    const type = h.streamtype;
    const requestId = h.requestid ?? String(stream.id);
    const port = Number(h.port);
    stream.respond(200, {});
    stream.on("error", () => undefined);
    if (type === "error") {
      errorStreams.set(requestId, stream);
      stream.resume();
      stream.on("close", () => errorStreams.delete(requestId));
      return;
    }
    if (type !== "data" || !Number.isInteger(port) || port <= 0) {
      stream.end();
      return;
    }
    const target = net.connect({ host, port });
    target.on("error", (err) => {
      const es = errorStreams.get(requestId);
      const msg = `error forwarding port ${port} to pod, uid : ${err.message}`;
      log.debug({ port, err: err.message }, "port-forward dial failed");
      if (es && !es.destroyed) es.end(msg);
      stream.end();
    });
    stream.pipe(target);
    target.pipe(stream);
    stream.on("close", () => target.destroy());
  });
  ws.on("close", (code, reason) => {
    log.debug({ code, reason: reason.toString() }, "port-forward session closed");
    for (const es of errorStreams.values()) es.destroy();
  });
}
