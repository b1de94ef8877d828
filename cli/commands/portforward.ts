// kubeling port-forward POD [LOCAL:]REMOTE...: what kubectl 1.31+ does (KUBECTL_WIRE 3.3).
// One WebSocket to .../pods/NAME/portforward with subprotocol "SPDY/3.1+portforward.k8s.io"
// carries a SPDY/3.1 session (spdy-transport as the client); each accepted local TCP
// connection opens two SPDY streams with headers streamtype=error|data, port, requestid,
// and the data stream is piped to the socket.

import { createServer, type Server, type Socket } from "node:net";
import { PODS, resourcePath } from "#pkg/api/resources.js";
import {
  PORT_FORWARD_REQUEST_ID_HEADER,
  PORT_FORWARD_WEBSOCKET_PROTOCOL,
  PORT_HEADER,
  STREAM_TYPE_DATA,
  STREAM_TYPE_ERROR,
  STREAM_TYPE_HEADER,
} from "#pkg/streaming/protocols.js";
import { spdyConnection } from "#pkg/streaming/spdy.js";
import { wsDuplex } from "#pkg/streaming/websocket.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { resolvePod } from "./pods.js";

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
  // Resolves after the 101, as kubectl prints "Forwarding" only then.
  const { ws } = await ctx.client.upgrade(path, [PORT_FORWARD_WEBSOCKET_PROTOCOL]);
  const conn = spdyConnection(wsDuplex(ws), { isServer: false });
  let requestId = 0;
  const forward = (remote: number, sock: Socket) => {
    const id = String(requestId++);
    const headers = (type: string) => ({
      [STREAM_TYPE_HEADER]: type,
      [PORT_HEADER]: String(remote),
      [PORT_FORWARD_REQUEST_ID_HEADER]: id,
    });
    // The error stream is read-only for the client: a GET is sent already finished.
    const errStream = conn.request({ method: "GET", path: "/", host: "", headers: headers(STREAM_TYPE_ERROR) });
    const dataStream = conn.request({ method: "POST", path: "/", host: "", headers: headers(STREAM_TYPE_DATA) });
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
