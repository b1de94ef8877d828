import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { WebSocket } from "ws";
import { isNotFound, StatusError } from "../api/errors.js";
import {
  Channel,
  EXEC_PROTOCOLS,
  frame,
  PORT_FORWARD_WEBSOCKET_PROTOCOL,
  parseFrame,
  STREAM_PROTOCOL_V4,
  STREAM_PROTOCOL_V5,
} from "./protocols.js";
import { type SpdyStream, spdyConnection } from "./spdy.js";
import { dialWebSocket, rejectUpgrade, WebSocketUpgrader, wsDuplex } from "./websocket.js";

describe("channel framing", () => {
  it("frames and parses channel messages", () => {
    assert.deepEqual([...frame(Channel.Stdout, "hi")], [1, 104, 105]);
    assert.deepEqual([...frame(Channel.Close, Buffer.from([Channel.Stdin]))], [255, 0]);
    const f = parseFrame(frame(Channel.Resize, '{"Width":80}'));
    assert.equal(f?.channel, Channel.Resize);
    assert.equal(f?.payload.toString(), '{"Width":80}');
    assert.equal(parseFrame(Buffer.alloc(0)), undefined);
    assert.deepEqual(EXEC_PROTOCOLS, [STREAM_PROTOCOL_V5, STREAM_PROTOCOL_V4]);
    assert.equal(PORT_FORWARD_WEBSOCKET_PROTOCOL, "SPDY/3.1+portforward.k8s.io");
  });
});

describe("WebSocketUpgrader and dialWebSocket", () => {
  const upgrader = new WebSocketUpgrader();
  const sessions: WebSocket[] = [];
  let server: http.Server;
  let base: string;

  before(async () => {
    server = http.createServer((_req, res) => res.end());
    server.on("upgrade", (req, socket, head) => {
      try {
        const path = new URL(req.url ?? "/", "http://x").pathname;
        if (path === "/missing") throw new StatusError(404, "NotFound", 'pods "x" not found');
        const supported = path === "/portforward" ? [PORT_FORWARD_WEBSOCKET_PROTOCOL] : EXEC_PROTOCOLS;
        upgrader.negotiate(req, supported, { required: path !== "/optional" });
        upgrader.accept(req, socket, head, (ws) => {
          sessions.push(ws);
          if (path === "/portforward") serveEcho(ws);
          else ws.on("message", (m: Buffer) => ws.send(m));
        });
      } catch (err) {
        rejectUpgrade(socket, err);
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    upgrader.terminateAll();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("negotiates token protocols, the server's preference among those offered", async () => {
    const { ws, protocol } = await dialWebSocket(`${base}/exec`, [STREAM_PROTOCOL_V4, STREAM_PROTOCOL_V5]);
    assert.equal(protocol, STREAM_PROTOCOL_V5);
    const echoed = new Promise<Buffer>((r) => ws.once("message", (m: Buffer) => r(m)));
    ws.send(frame(Channel.Stdin, "x"));
    assert.deepEqual([...(await echoed)], [0, 120]);
    ws.close();
  });

  it("negotiates a protocol with a '/' in it, which ws alone refuses", async () => {
    const { ws, protocol } = await dialWebSocket(`${base}/portforward`, [PORT_FORWARD_WEBSOCKET_PROTOCOL]);
    assert.equal(protocol, PORT_FORWARD_WEBSOCKET_PROTOCOL);
    ws.close();
  });

  it("opens without a protocol where none is required", async () => {
    const { ws, protocol } = await dialWebSocket(`${base}/optional`, []);
    assert.equal(protocol, "");
    ws.close();
  });

  it("a refused upgrade comes back as the server's Status", async () => {
    await assert.rejects(dialWebSocket(`${base}/missing`, [STREAM_PROTOCOL_V5]), (err: unknown) => {
      assert.ok(isNotFound(err));
      assert.equal((err as StatusError).message, 'pods "x" not found');
      return true;
    });
    await assert.rejects(dialWebSocket(`${base}/exec`, ["v1.unknown.k8s.io"]), (err: unknown) => {
      assert.ok(err instanceof StatusError);
      assert.equal(err.code, 400);
      assert.match(err.message, /^unsupported subprotocols \["v1.unknown.k8s.io"\]; want one of/);
      return true;
    });
  });

  it("carries a SPDY/3.1 session with kubectl's header-only streams over the WebSocket", async () => {
    const { ws } = await dialWebSocket(`${base}/portforward`, [PORT_FORWARD_WEBSOCKET_PROTOCOL]);
    const conn = spdyConnection(wsDuplex(ws), { isServer: false });
    const data = conn.request({ method: "POST", path: "/", host: "", headers: { streamtype: "data", port: "80" } });
    const reply = new Promise<string>((resolve) => {
      let text = "";
      data.on("data", (c: Buffer) => {
        text += c.toString();
        if (text.length >= 9) resolve(text);
      });
    });
    data.write("ping 80");
    assert.equal(await reply, "80:ping 80");
    ws.close();
  });
});

/** The server end of the SPDY test: echoes each data stream, prefixed with its port header. */
function serveEcho(ws: WebSocket): void {
  const conn = spdyConnection(wsDuplex(ws), { isServer: true });
  conn.on("error", () => undefined);
  conn.on("stream", (stream: SpdyStream) => {
    stream.respond(200, {});
    const port = stream.headers.port ?? "";
    stream.once("data", (c: Buffer) => stream.write(`${port}:${c.toString()}`));
  });
}
