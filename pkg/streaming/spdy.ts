// SPDY/3.1 sessions for port-forward (KUBECTL_WIRE 3.3), client and server, over any byte stream
// (a WebSocket through wsDuplex). The framing is spdy-transport@3.0.0 with one shim: its parser
// insists on HTTP's :method/:path in SYN_STREAM, which port-forward streams do not carry.

import { createRequire } from "node:module";
import type { Duplex } from "node:stream";

export interface SpdyStream extends Duplex {
  id: number;
  /** The SYN_STREAM's headers (streamtype, port, requestid for port-forward). */
  headers: Record<string, string>;
  /** cb runs once the SYN_REPLY is written (with an error if the stream had ended). */
  respond(status: number, headers: Record<string, string>, cb?: (err?: Error | null) => void): void;
}

export interface SpdyRequest {
  method: string;
  path: string;
  host: string;
  headers: Record<string, string>;
}

export interface SpdyConnection {
  /** Client side: opens a stream. */
  request(req: SpdyRequest, cb?: (err: Error | null, stream?: SpdyStream) => void): SpdyStream;
  /** Server side: a stream the peer opened. */
  on(ev: "stream", h: (s: SpdyStream) => void): void;
  on(ev: "error" | "close", h: (err?: Error) => void): void;
  end(cb?: () => void): void;
}

interface Transport {
  connection: {
    create(
      socket: Duplex,
      o: { protocol: string; isServer: boolean; autoSpdy31?: boolean },
    ): SpdyConnection & { start(version: number): void };
  };
}

type ParseKVs = (buf: unknown, cb: (err: Error | null, headers?: Record<string, string>) => void) => void;

const require = createRequire(import.meta.url);
let transport: Transport | undefined;
let shimmed = false;

/**
 * Wraps the SPDY parser's header decoding (once, on the prototype of a live parser) so that
 * SYN_STREAMs without :method/:path, as kubectl's port-forward sends them, are accepted.
 */
function shimParser(conn: object): void {
  if (shimmed) return;
  const parser = (conn as { _spdyState?: { parser?: object } })._spdyState?.parser;
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

/** A started SPDY/3.1 session on `socket`; the server side accepts kubectl's header-less streams. */
export function spdyConnection(socket: Duplex, o: { isServer: boolean }): SpdyConnection {
  transport ??= require("spdy-transport") as Transport;
  const conn = transport.connection.create(socket, {
    protocol: "spdy",
    isServer: o.isServer,
    ...(o.isServer ? { autoSpdy31: true } : {}),
  });
  if (o.isServer) shimParser(conn);
  conn.start(3.1);
  return conn;
}
