import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { test } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
import { silentLogger } from "#pkg/runtime/log.js";
import { Channel, frame } from "#pkg/streaming/protocols.js";
import { type SpdyStream, spdyConnection } from "#pkg/streaming/spdy.js";
import { bridgeSpdyExec, expectedExecStreams } from "./spdy-upgrade.js";

test("expectedExecStreams: the streams client-go opens for the exec's query", () => {
  const of = (q: string) => [...expectedExecStreams(new URLSearchParams(q))].sort();
  assert.deepEqual(of("command=ls&stdout=true&stderr=true"), ["error", "stderr", "stdout"]);
  assert.deepEqual(of("command=cat&stdin=true&stdout=true&stderr=true"), ["error", "stderr", "stdin", "stdout"]);
  // A terminal: no stderr stream, a resize stream; Go's ParseBool spellings.
  assert.deepEqual(of("command=sh&stdin=1&stdout=True&stderr=true&tty=t"), ["error", "resize", "stdin", "stdout"]);
  assert.deepEqual(of("command=ls&stdout=false"), ["error"]);
});

/** The control frames (type and stream id, or GOAWAY's last id) in a server's SPDY/3.1 bytes. */
function controlFrames(bytes: Buffer): { type: number; id: number }[] {
  const out: { type: number; id: number }[] = [];
  for (let o = 0; o + 8 <= bytes.length; o += 8 + bytes.readUIntBE(o + 5, 3)) {
    if ((bytes[o] ?? 0) & 0x80)
      out.push({ type: bytes.readUInt16BE(o + 2), id: bytes.readUInt32BE(o + 8) & 0x7fffffff });
  }
  return out;
}
const SYN_REPLY = 2;
const GOAWAY = 7;

test("bridgeSpdyExec: a command over before the client's last stream is open still answers every stream before GOAWAY", async (t) => {
  // The kubelet's exec: output, status and close at once, before the client has opened a stream.
  const kubelet = new WebSocketServer({ port: 0, host: "127.0.0.1", handleProtocols: () => "v5.channel.k8s.io" });
  kubelet.on("connection", (ws) => {
    ws.send(frame(Channel.Stdout, "out\n"));
    ws.send(frame(Channel.Stderr, "err\n"));
    ws.send(frame(Channel.Error, JSON.stringify({ metadata: {}, status: "Success" })));
    ws.close(1000);
  });
  await once(kubelet, "listening");
  const kport = (kubelet.address() as { port: number }).port;
  let kubeletClosed: Promise<unknown> | undefined;
  const server = createServer((socket) => {
    const upstream = new WebSocket(`ws://127.0.0.1:${kport}/`, ["v5.channel.k8s.io"]);
    kubeletClosed = once(upstream, "close");
    upstream.once("open", () => {
      const q = new URLSearchParams("command=echo&stdout=true&stderr=true");
      bridgeSpdyExec(socket, Buffer.alloc(0), upstream, silentLogger, expectedExecStreams(q));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  t.after(() => {
    server.close();
    kubelet.close();
  });

  // The client: past the 101, a SPDY session on the rest of the bytes, which are also kept.
  const socket: Socket = connect((server.address() as { port: number }).port, "127.0.0.1");
  let raw = Buffer.alloc(0);
  let body: Buffer | undefined;
  let sawGoaway: () => void = () => undefined;
  const goawaySeen = new Promise<void>((resolve) => {
    sawGoaway = resolve;
  });
  const session = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      socket.write(chunk, cb);
    },
  });
  socket.on("data", (d: Buffer) => {
    if (body) {
      body = Buffer.concat([body, d]);
      session.push(d);
      if (controlFrames(body).some((f) => f.type === GOAWAY)) sawGoaway();
      return;
    }
    raw = Buffer.concat([raw, d]);
    const end = raw.indexOf("\r\n\r\n");
    if (end < 0) return;
    assert.match(raw.subarray(0, end).toString(), /^HTTP\/1\.1 101 /);
    body = raw.subarray(end + 4);
    session.push(body);
  });
  socket.on("end", () => session.push(null));
  const conn = spdyConnection(session, { isServer: false });
  conn.on("error", () => undefined);

  // As client-go's v4 protocol: error, stdout, stderr, each once the one before is answered.
  const open = async (type: string): Promise<{ s: SpdyStream; text: Promise<string> }> => {
    const s = conn.request({ method: "POST", path: "/", host: "", headers: { streamtype: type } });
    s.on("error", () => undefined);
    let text = "";
    s.on("data", (c: Buffer) => {
      text += c.toString();
    });
    const ended = new Promise<string>((resolve) => s.once("end", () => resolve(text)));
    await once(s, "response");
    return { s, text: ended };
  };
  const error = await open("error");
  const stdout = await open("stdout");
  await kubeletClosed;
  const stderr = await open("stderr");
  assert.equal(await stdout.text, "out\n");
  assert.equal(await stderr.text, "err\n");
  assert.deepEqual(JSON.parse(await error.text), { metadata: {}, status: "Success" });
  // As client-go once done: it closes the connection.
  await goawaySeen;
  socket.destroy();

  // client-go (spdystream) ignores replies that come after the session's GOAWAY.
  const frames = controlFrames(body ?? Buffer.alloc(0));
  const goaway = frames.findIndex((f) => f.type === GOAWAY);
  assert.ok(goaway >= 0, "the session ends with a GOAWAY");
  for (const id of [1, 3, 5]) {
    const reply = frames.findIndex((f) => f.type === SYN_REPLY && f.id === id);
    assert.ok(reply >= 0 && reply < goaway, `SYN_REPLY of stream ${id} before GOAWAY: ${JSON.stringify(frames)}`);
  }
});
