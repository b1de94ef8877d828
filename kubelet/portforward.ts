// Port-forward over SPDY/3.1 tunnelled in a WebSocket (KUBECTL_WIRE 3.3): kubectl opens, per
// local connection, an "error" and a "data" stream carrying headers port and requestid; the data
// stream is piped to podIP:port. The session and its framing are pkg/streaming's.

import net from "node:net";
import type { WebSocket } from "ws";
import type { Logger } from "#pkg/runtime/log.js";
import {
  PORT_FORWARD_REQUEST_ID_HEADER,
  PORT_HEADER,
  STREAM_TYPE_DATA,
  STREAM_TYPE_ERROR,
  STREAM_TYPE_HEADER,
} from "#pkg/streaming/protocols.js";
import { type SpdyStream, spdyConnection } from "#pkg/streaming/spdy.js";
import { wsDuplex } from "#pkg/streaming/websocket.js";

/**
 * servePortForward runs one port-forward session on an accepted WebSocket: streams come in
 * pairs (error, data) per request id; the data stream is connected to `host:port`.
 */
export function servePortForward(ws: WebSocket, host: string, log: Logger): void {
  const conn = spdyConnection(wsDuplex(ws), { isServer: true });
  const errorStreams = new Map<string, SpdyStream>();
  conn.on("error", (err) => log.debug({ err }, "port-forward connection error"));
  conn.on("stream", (stream) => {
    const h = stream.headers;
    log.debug({ headers: h }, "port-forward stream");
    const type = h[STREAM_TYPE_HEADER];
    const requestId = h[PORT_FORWARD_REQUEST_ID_HEADER] ?? String(stream.id);
    const port = Number(h[PORT_HEADER]);
    stream.respond(200, {});
    stream.on("error", () => undefined);
    if (type === STREAM_TYPE_ERROR) {
      errorStreams.set(requestId, stream);
      stream.resume();
      stream.on("close", () => errorStreams.delete(requestId));
      return;
    }
    if (type !== STREAM_TYPE_DATA || !Number.isInteger(port) || port <= 0) {
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
