// kubeling port-forward POD [LOCAL:]REMOTE...: what kubectl 1.31+ does (KUBECTL_WIRE 3.3).
// One WebSocket to .../pods/NAME/portforward with subprotocol "SPDY/3.1+portforward.k8s.io"
// carries a SPDY/3.1 session (spdy-transport as the client); each accepted local TCP
// connection opens two SPDY streams with headers streamtype=error|data, port, requestid,
// and the data stream is piped to the socket.

import { createRequire } from "node:module";
import { createServer, type Server, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { WebSocket } from "ws";
import { PODS, resourcePath } from "#pkg/api/resources.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { upgradeFailure, wsTarget } from "./exec.js";
import { resolvePod } from "./pods.js";

export const PORTFORWARD_PROTOCOL = "SPDY/3.1+portforward.k8s.io";

interface SpdyStream extends Duplex {
  id: number;
}
interface SpdyConnection {
  start(version: number): void;
  request(
    uri: {
      method: string;
      path: string;
      host: string;
      headers: Record<string, string>;
      readable?: boolean;
      writable?: boolean;
    },
    cb?: (err: Error | null, stream?: SpdyStream) => void,
  ): SpdyStream;
  on(ev: "error" | "close", h: (err?: Error) => void): void;
  end(cb?: () => void): void;
}
interface SpdyTransport {
  connection: {
    create(socket: Duplex, o: { protocol: string; isServer: boolean }): SpdyConnection;
  };
}

const require = createRequire(import.meta.url);

export interface PortMapping {
  local: number;
  remote: number;
}

/** "8080:80", "80" (same local port), ":80" (any free local port). */
export function parsePortMapping(spec: string): PortMapping {
  const parts = spec.split(":");
  if (parts.length > 2) throw new CliError(`error: invalid port format '${spec}'`);
  const [a = "", b] = parts;
  const remote = Number(b ?? a);
  const local = b === undefined ? remote : a === "" ? 0 : Number(a);
  const valid = (n: number, zeroOk: boolean) => Number.isInteger(n) && n >= (zeroOk ? 0 : 1) && n <= 65535;
  if (!valid(remote, false)) throw new CliError(`error: Error parsing remote port '${b ?? a}': invalid port`);
  if (!valid(local, true)) throw new CliError(`error: Error parsing local port '${a}': invalid port`);
  return { local, remote };
}

/** A WebSocket's binary messages as a byte stream (SPDY frames may span messages). */
function wsDuplex(ws: WebSocket): Duplex {
  const d = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      if (ws.readyState !== WebSocket.OPEN) return cb();
      ws.send(chunk, { binary: true }, (err) => cb(err ?? undefined));
    },
    final(cb) {
      ws.close(1000);
      cb();
    },
  });
  ws.on("message", (data: Buffer) => d.push(data));
  ws.on("close", () => d.push(null));
  ws.on("error", (err) => d.destroy(err));
  return d;
}

/** Opens the session: resolves after the 101, as kubectl prints "Forwarding" only then. */
function openSession(ctx: CliContext, path: string): Promise<{ ws: WebSocket; conn: SpdyConnection }> {
  const { url, options } = wsTarget(ctx, path, {});
  // ws refuses "/" in subprotocol names, so the header is sent by hand and the echo is hidden
  // from ws's own check (it reads res.headers after emitting "upgrade").
  const ws = new WebSocket(url, {
    ...options,
    headers: { ...options.headers, "sec-websocket-protocol": PORTFORWARD_PROTOCOL },
    perMessageDeflate: false,
  });
  ws.on("upgrade", (res) => {
    const echoed = res.headers["sec-websocket-protocol"];
    delete res.headers["sec-websocket-protocol"];
    if (echoed !== PORTFORWARD_PROTOCOL) {
      ws.emit(
        "error",
        new Error(`invalid protocol, expected one of ["${PORTFORWARD_PROTOCOL}"], got "${echoed ?? ""}"`),
      );
      ws.terminate();
    }
  });
  return new Promise((resolve, reject) => {
    ws.once("unexpected-response", (_req, res) => {
      void upgradeFailure(res).then(reject);
    });
    ws.once("error", reject);
    ws.once("open", () => {
      ws.off("error", reject);
      const transport = require("spdy-transport") as SpdyTransport;
      const conn = transport.connection.create(wsDuplex(ws), { protocol: "spdy", isServer: false });
      conn.start(3.1);
      resolve({ ws, conn });
    });
  });
}

export async function runPortForward(
  ctx: CliContext,
  podArg: string,
  ports: string[],
  o: { address: string },
): Promise<number> {
  const mappings = ports.map(parsePortMapping);
  const pod = await resolvePod(ctx, podArg);
  if (pod.status?.phase !== "Running") {
    throw new CliError(
      `error: unable to forward port because pod is not running. Current status=${pod.status?.phase ?? "Unknown"}`,
    );
  }
  const path = resourcePath(PODS, pod.metadata.namespace, pod.metadata.name, "portforward");
  const { ws, conn } = await openSession(ctx, path);
  let requestId = 0;
  const forward = (remote: number, sock: Socket) => {
    const id = String(requestId++);
    const headers = (type: string) => ({ streamtype: type, port: String(remote), requestid: id });
    // The error stream is read-only for the client: a GET is sent already finished.
    const errStream = conn.request({ method: "GET", path: "/", host: "", headers: headers("error") });
    const dataStream = conn.request({ method: "POST", path: "/", host: "", headers: headers("data") });
    let errText = "";
    errStream.on("data", (d: Buffer) => {
      errText += d.toString();
    });
    errStream.on("end", () => {
      if (errText) ctx.printErr(`E0000 an error occurred forwarding ${remote}: ${errText}\n`);
    });
    errStream.on("error", () => undefined);
    dataStream.on("error", () => sock.destroy());
    sock.on("error", () => dataStream.destroy());
    sock.pipe(dataStream);
    dataStream.pipe(sock);
    ctx.print(`Handling connection for ${remote}\n`);
  };

  const addresses = o.address.split(",").map((a) => (a === "localhost" ? "127.0.0.1" : a));
  const servers: Server[] = [];
  for (const m of mappings) {
    for (const addr of addresses) {
      const server = createServer((sock) => forward(m.remote, sock));
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(m.local, addr, () => resolve());
      });
      const bound = server.address();
      const port = typeof bound === "object" && bound ? bound.port : m.local;
      ctx.print(`Forwarding from ${addr}:${port} -> ${m.remote}\n`);
      servers.push(server);
    }
  }
  // Runs until interrupted or the session ends, like kubectl.
  const lost = await new Promise<boolean>((resolve) => {
    let done = false;
    const stop = (lostConnection: boolean) => {
      if (done) return;
      done = true;
      for (const s of servers) s.close();
      resolve(lostConnection);
    };
    process.once("SIGINT", () => stop(false));
    process.once("SIGTERM", () => stop(false));
    ws.once("close", () => stop(true));
  });
  if (lost) {
    ctx.printErr("error: lost connection to pod\n");
    return 1;
  }
  ws.close();
  return 0;
}
