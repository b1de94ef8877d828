// Port-forward over WebSocket, in its two protocols:
// - SPDY/3.1 tunnelled in a WebSocket (KUBECTL_WIRE 3.3): kubectl opens, per local connection, an
//   "error" and a "data" stream carrying headers port and requestid; the data stream is piped to
//   podIP:port. The session and its framing are pkg/streaming's.
// - the channel protocol (v4.channel.k8s.io, v4.base64.channel.k8s.io or none; upstream's
//   pkg/kubelet/cri/streaming/portforward/websocket.go), which the Python client and client-node
//   speak: the ports come in the request (?port=), each gets data channel 2i and error channel
//   2i+1, whose first message is the port (uint16, little-endian); one connection to the pod per
//   port, and the WebSocket closes once every port's connection is done.

import net from "node:net";
import type { WebSocket } from "ws";
import { badRequest } from "#pkg/api/errors.js";
import type { Logger } from "#pkg/runtime/log.js";
import {
  decodeChannelMessage,
  encodeChannelMessage,
  PORT_FORWARD_REQUEST_ID_HEADER,
  PORT_HEADER,
  STREAM_TYPE_DATA,
  STREAM_TYPE_ERROR,
  STREAM_TYPE_HEADER,
} from "#pkg/streaming/protocols.js";
import { type SpdyStream, spdyConnection } from "#pkg/streaming/spdy.js";
import { asBuffer, wsDuplex } from "#pkg/streaming/websocket.js";

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

/**
 * portForwardPorts: the ports of a channel-protocol request, upstream's NewV4Options: the `port`
 * parameter (repeated, or comma-separated), each 1..65535; a 400 with upstream's message otherwise.
 */
export function portForwardPorts(q: URLSearchParams): number[] {
  const values = q.getAll(PORT_HEADER);
  if (values.length === 0) throw badRequest(`query parameter "${PORT_HEADER}" is required`);
  const ports: number[] = [];
  for (const v of values) {
    if (v === "") throw badRequest(`query parameter "${PORT_HEADER}" cannot be empty`);
    for (const p of v.split(",")) {
      if (!/^\d+$/.test(p))
        throw badRequest(`unable to parse "${v}" as a port: strconv.ParseUint: parsing "${p}": invalid syntax`);
      const n = Number(p);
      if (n > 65535)
        throw badRequest(`unable to parse "${v}" as a port: strconv.ParseUint: parsing "${p}": value out of range`);
      if (n < 1) throw badRequest(`port "${v}" must be > 0`);
      ports.push(n);
    }
  }
  return ports;
}

/**
 * serveChannelPortForward runs a channel-protocol port-forward session on `ws` (binary, or base64
 * text messages): what the client writes on port i's data channel goes to host:port, what the pod
 * answers comes back on it, and a failed connection is reported on the error channel as upstream
 * words it.
 */
export function serveChannelPortForward(
  ws: WebSocket,
  host: string,
  ports: readonly number[],
  o: { base64: boolean; pod: string; uid: string },
  log: Logger,
): void {
  const send = (channel: number, data: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(encodeChannelMessage(channel, data, o.base64), { binary: !o.base64 });
  };
  let open = ports.length;
  const sockets = ports.map((port, i) => {
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16LE(port);
    send(2 * i, prefix);
    send(2 * i + 1, prefix);
    const target = net.connect({ host, port });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      open--;
      if (open === 0) ws.close(1000);
    };
    target.on("data", (b: Buffer) => send(2 * i, b));
    target.on("error", (err) => {
      log.debug({ port, err: err.message }, "port-forward connection failed");
      send(2 * i + 1, Buffer.from(`error forwarding port ${port} to pod ${o.pod}, uid ${o.uid}: ${err.message}`));
      finish();
    });
    // The pod closing its side ends this port's forwarding (upstream returns once either copy ends).
    target.on("close", finish);
    return target;
  });
  ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
    const m = decodeChannelMessage(asBuffer(data), o.base64);
    // Only data channels are read; the error channels are the server's to write.
    if (!m || m.channel % 2 !== 0 || m.payload.length === 0) return;
    const target = sockets[m.channel / 2];
    if (target && !target.destroyed) target.write(m.payload);
  });
  ws.on("close", () => {
    for (const s of sockets) s.destroy();
  });
  ws.on("error", (err) => log.debug({ err }, "port-forward WebSocket error"));
}
