// exec and port-forward over plain SPDY/3.1 (POST with `Upgrade: SPDY/3.1`), which kubectl 1.27–
// 1.29 speak, and later ones when a WebSocket upgrade fails (KUBECTL_WIRE 3): the API server
// answers the upgrade itself and bridges the session onto the kubelet's WebSocket endpoints.
// - exec (remotecommand v4.channel.k8s.io): the client opens one SPDY stream per stream type
//   (error, stdin, stdout, stderr, resize); they map onto the kubelet's v5 channels, the client's
//   half-close of stdin onto v5's CLOSE frame, and the kubelet's final Status onto the error stream.
// - port-forward: the kubelet already speaks SPDY/3.1 tunnelled in a WebSocket, so the client's
//   bytes are piped through as they are.

import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import { StatusError } from "#pkg/api/errors.js";
import { parseBool } from "#pkg/api/strconv.js";
import type { Logger } from "#pkg/runtime/log.js";
import {
  Channel,
  frame,
  parseFrame,
  SPDY_31,
  STREAM_TYPE_ERROR,
  STREAM_TYPE_HEADER,
} from "#pkg/streaming/protocols.js";
import { type SpdyStream, spdyConnection } from "#pkg/streaming/spdy.js";
import { asBuffer, wsDuplex } from "#pkg/streaming/websocket.js";

/** The remotecommand protocol served over SPDY (v4's error stream carries a metav1.Status). */
export const SPDY_EXEC_PROTOCOL = "v4.channel.k8s.io";
/** Port-forward's protocol over SPDY. */
export const SPDY_PORT_FORWARD_PROTOCOL = "portforward.k8s.io";

/** isSpdyUpgrade: a request asking to switch to SPDY/3.1 (not a WebSocket). */
export function isSpdyUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? "").toLowerCase() === SPDY_31.toLowerCase();
}

/**
 * negotiateSpdy: the one protocol of X-Stream-Protocol-Version (repeated, or comma-joined by
 * Node) that the server speaks; a 403 with upstream's httpstream handshake message otherwise.
 */
export function negotiateSpdy(req: IncomingMessage, supported: string): string {
  const raw = req.headers["x-stream-protocol-version"];
  const offered = (Array.isArray(raw) ? raw : [raw ?? ""])
    .flatMap((v) => v.split(","))
    .map((v) => v.trim())
    .filter(Boolean);
  if (offered.includes(supported)) return supported;
  throw new StatusError(
    403,
    "Forbidden",
    `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(" ")}], server accepts [${supported}]`,
  );
}

/** switchToSpdy answers 101 and starts the server side of a SPDY/3.1 session on the socket. */
function switchToSpdy(socket: Duplex, head: Buffer, protocol: string): ReturnType<typeof spdyConnection> {
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${SPDY_31}\r\n` +
      `X-Stream-Protocol-Version: ${protocol}\r\n\r\n`,
  );
  if (head.length > 0) socket.unshift(head);
  return spdyConnection(socket, { isServer: true });
}

/** The streams an exec's client opens, by the SPDY streamtype header. */
export type ExecStreamType = "error" | "stdin" | "stdout" | "stderr" | "resize";

const OUTPUT_CHANNELS: Partial<Record<number, ExecStreamType>> = {
  [Channel.Stdout]: "stdout",
  [Channel.Stderr]: "stderr",
  [Channel.Error]: "error",
};

/** How long a finished exec waits for the client to open the streams it asked for. */
const STREAM_CREATION_TIMEOUT_MS = 30_000;

/**
 * expectedExecStreams: the streams client-go's remotecommand opens for an exec request's query
 * (v4 protocol): error always, stdin/stdout as asked, stderr unless tty, resize with a tty.
 */
export function expectedExecStreams(query: URLSearchParams): ReadonlySet<ExecStreamType> {
  const on = (k: string) => parseBool(query.get(k) ?? "") === true;
  const want = new Set<ExecStreamType>(["error"]);
  if (on("stdin")) want.add("stdin");
  if (on("stdout")) want.add("stdout");
  if (on("tty")) want.add("resize");
  else if (on("stderr")) want.add("stderr");
  return want;
}

/**
 * bridgeSpdyExec: the client's SPDY exec session on `socket`, carried by `upstream`, a WebSocket
 * to the kubelet's exec speaking v5.channel.k8s.io. Output that arrives before the client has
 * opened the stream it belongs to waits for it; a command that ends before the client has
 * opened every stream it asked for (`expected`; client-go opens them one after another) keeps
 * the session until they are there (as upstream's server waits for them before it starts),
 * else its output is lost and the client waits for a stream reply that never comes.
 */
export function bridgeSpdyExec(
  socket: Duplex,
  head: Buffer,
  upstream: WebSocket,
  log: Logger,
  expected: ReadonlySet<ExecStreamType> = new Set(["error"]),
): void {
  const conn = switchToSpdy(socket, head, SPDY_EXEC_PROTOCOL);
  const streams = new Map<ExecStreamType, SpdyStream>();
  const pending = new Map<ExecStreamType, Buffer[]>();
  let done = false;
  let upstreamDone = false;
  let waitTimer: NodeJS.Timeout | undefined;
  const toKubelet = (data: Buffer) => {
    if (upstream.readyState === upstream.OPEN) upstream.send(data, { binary: true });
  };
  const allOpen = () => [...expected].every((t) => streams.has(t));
  /** The kubelet's side is over: finish once the client's streams are all there (or time is up). */
  const upstreamOver = () => {
    upstreamDone = true;
    if (allOpen()) return finish();
    waitTimer ??= setTimeout(finish, STREAM_CREATION_TIMEOUT_MS);
  };
  const finish = () => {
    if (done) return;
    done = true;
    if (waitTimer) clearTimeout(waitTimer);
    for (const s of streams.values()) if (!s.destroyed) s.end();
    // Let the streams' FINs go out before the session does.
    setImmediate(() => conn.end(() => socket.end()));
  };

  conn.on("error", (err) => log.debug({ err }, "SPDY exec session error"));
  conn.on("close", () => {
    if (waitTimer) clearTimeout(waitTimer);
    upstream.close(1000);
  });
  conn.on("stream", (stream) => {
    const type = stream.headers[STREAM_TYPE_HEADER] as ExecStreamType | undefined;
    stream.on("error", () => undefined);
    if (type === "stdin") {
      stream.on("data", (d: Buffer) => toKubelet(frame(Channel.Stdin, d)));
      stream.on("end", () => toKubelet(frame(Channel.Close, Buffer.from([Channel.Stdin]))));
    } else if (type === "resize") {
      stream.on("data", (d: Buffer) => toKubelet(frame(Channel.Resize, d)));
    } else stream.resume();
    // A stream counts as open once its SYN_REPLY is out, not when respond() is called: the
    // reply's headers are compressed asynchronously, while the GOAWAY of a session that ends
    // meanwhile (the command was over before the client opened its last stream) goes out at
    // once; client-go ignores a reply after GOAWAY and gives up on the stream after 30 s
    // ("Timeout occurred"), having printed none of the output.
    stream.respond(200, {}, (err) => {
      if (err || !type) {
        stream.end();
        return;
      }
      streams.set(type, stream);
      for (const chunk of pending.get(type) ?? []) stream.write(chunk);
      pending.delete(type);
      if (done) stream.end();
      else if (upstreamDone && allOpen()) finish();
    });
  });

  upstream.on("message", (data) => {
    const f = parseFrame(asBuffer(data as Buffer));
    const type = f ? OUTPUT_CHANNELS[f.channel] : undefined;
    if (!f || !type || f.payload.length === 0) return;
    const s = streams.get(type);
    if (s) s.write(f.payload);
    else pending.set(type, [...(pending.get(type) ?? []), f.payload]);
  });
  upstream.on("close", upstreamOver);
  upstream.on("error", (err) => {
    log.debug({ err }, "kubelet side of a SPDY exec failed");
    const status = Buffer.from(JSON.stringify(new StatusError(500, "InternalError", err.message).toStatus()));
    const es = streams.get(STREAM_TYPE_ERROR);
    if (es && !es.destroyed) es.write(status);
    else if (!es) pending.set(STREAM_TYPE_ERROR, [...(pending.get(STREAM_TYPE_ERROR) ?? []), status]);
    upstreamOver();
  });
}

/**
 * bridgeSpdyPortForward: the client's SPDY port-forward session, byte for byte onto `upstream`,
 * the kubelet's port-forward WebSocket, which speaks the same SPDY/3.1 inside its frames.
 */
export function bridgeSpdyPortForward(socket: Duplex, head: Buffer, upstream: WebSocket, log: Logger): void {
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${SPDY_31}\r\n` +
      `X-Stream-Protocol-Version: ${SPDY_PORT_FORWARD_PROTOCOL}\r\n\r\n`,
  );
  const tunnel = wsDuplex(upstream);
  if (head.length > 0) tunnel.write(head);
  socket.pipe(tunnel);
  tunnel.pipe(socket);
  const close = () => {
    socket.destroy();
    tunnel.destroy();
  };
  socket.on("error", (err) => {
    log.debug({ err }, "client side of a SPDY port-forward failed");
    close();
  });
  tunnel.on("error", (err) => {
    log.debug({ err }, "kubelet side of a SPDY port-forward failed");
    close();
  });
  socket.on("close", () => upstream.close(1000));
  upstream.on("close", () => socket.end());
}
