// The streaming subprotocols of exec, attach and port-forward, named as upstream names them
// (k8s.io/apimachinery/pkg/util/remotecommand, .../httpstream/wsstream, k8s.io/api/core/v1's
// port-forward headers), and the channel framing of the v4/v5 WebSocket protocols
// (KUBECTL_WIRE 3.2): byte 0 of each binary message is the channel.

export const STREAM_PROTOCOL_V4 = "v4.channel.k8s.io";
/** v4 plus a CLOSE channel message, so stdin can be half-closed. */
export const STREAM_PROTOCOL_V5 = "v5.channel.k8s.io";
/** What exec accepts over WebSocket, preferred first. */
export const EXEC_PROTOCOLS: readonly string[] = [STREAM_PROTOCOL_V5, STREAM_PROTOCOL_V4];

export const PORT_FORWARD_PROTOCOL_V1 = "portforward.k8s.io";
/** v4 channels, base64 in text messages: each message is '0'+channel, then the payload in base64. */
export const STREAM_PROTOCOL_V4_BASE64 = "v4.base64.channel.k8s.io";
export const SPDY_31 = "SPDY/3.1";
/** kubectl 1.31+ tunnels SPDY/3.1 in WebSocket binary messages; the subprotocol names both. */
export const WEBSOCKET_SPDY_TUNNELING_PREFIX = `${SPDY_31}+`;
export const PORT_FORWARD_WEBSOCKET_PROTOCOL = `${WEBSOCKET_SPDY_TUNNELING_PREFIX}${PORT_FORWARD_PROTOCOL_V1}`;

/**
 * What port-forward accepts over WebSocket, preferred first: kubectl's SPDY tunnel, then the
 * channel protocol (upstream's kubelet portforward/websocket.go, which the Python client and
 * client-node speak): per port a data channel 2i and an error channel 2i+1. No subprotocol at all
 * is the binary channel protocol, as upstream.
 */
export const PORT_FORWARD_PROTOCOLS: readonly string[] = [
  PORT_FORWARD_WEBSOCKET_PROTOCOL,
  STREAM_PROTOCOL_V4,
  STREAM_PROTOCOL_V4_BASE64,
];

/** Headers of a port-forward SPDY stream: one "error" and one "data" stream per request id. */
export const STREAM_TYPE_HEADER = "streamtype";
export const STREAM_TYPE_DATA = "data";
export const STREAM_TYPE_ERROR = "error";
export const PORT_HEADER = "port";
export const PORT_FORWARD_REQUEST_ID_HEADER = "requestid";

export enum Channel {
  Stdin = 0,
  Stdout = 1,
  Stderr = 2,
  /** The exec's final Status (metav1.Status JSON). */
  Error = 3,
  /** A terminal size, {"Width":w,"Height":h}. */
  Resize = 4,
  /** v5: the next byte names the channel the sender closes. */
  Close = 255,
}

/** One channel message: the channel byte, then the payload. */
export function frame(channel: Channel, data: Buffer | string = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([channel]), typeof data === "string" ? Buffer.from(data) : data]);
}

/** The channel and payload of a message; undefined for an empty one. */
export function parseFrame(message: Buffer): { channel: number; payload: Buffer } | undefined {
  if (message.length === 0) return undefined;
  return { channel: message[0] as number, payload: message.subarray(1) };
}

/**
 * A channel message in the codec of the negotiated protocol: binary (channel byte, payload) or,
 * for the base64 protocols, text ('0'+channel, then the payload in base64).
 */
export function encodeChannelMessage(channel: number, data: Buffer, base64: boolean): Buffer | string {
  if (!base64) return frame(channel, data);
  return String.fromCharCode(48 + channel) + data.toString("base64");
}

/** The channel and payload of a message in either codec; undefined for an empty one. */
export function decodeChannelMessage(
  message: Buffer,
  base64: boolean,
): { channel: number; payload: Buffer } | undefined {
  const f = parseFrame(message);
  if (!f || !base64) return f;
  return { channel: f.channel - 48, payload: Buffer.from(f.payload.toString("latin1"), "base64") };
}
