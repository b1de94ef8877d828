// kubeling port-forward POD [LOCAL:]REMOTE...: listens locally and, per accepted TCP
// connection, opens a WebSocket to .../pods/NAME/portforward?ports=REMOTE speaking
// upstream's websocket port-forward framing (v4.channel.k8s.io): channel 0 carries data,
// channel 1 errors; the first message the server sends on each channel is the port number
// as two little-endian bytes.

import { createServer, type Server, type Socket } from "node:net";
import { WebSocket } from "ws";
import { resourcePath } from "#pkg/api/resources.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { upgradeFailure, wsTarget } from "./exec.js";
import { podsInfo, resolvePod } from "./pods.js";

export const PORTFORWARD_PROTOCOL = "v4.channel.k8s.io";

export interface PortMapping {
  local: number;
  remote: number;
}

/** "8080:80", "80" (same local port), ":80" (random local port). */
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

function forwardConnection(ctx: CliContext, path: string, remote: number, sock: Socket): void {
  const { url, options } = wsTarget(ctx, path, { ports: String(remote) });
  const ws = new WebSocket(url, [PORTFORWARD_PROTOCOL], options);
  const seen = new Set<number>();
  const pending: Buffer[] = [];
  sock.pause();
  ws.on("unexpected-response", (_req, res) => {
    void upgradeFailure(res).then((err) => {
      ctx.printErr(`E0000 error forwarding port ${remote}: ${err.message}\n`);
      sock.destroy();
    });
  });
  ws.on("error", (err) => {
    ctx.printErr(`E0000 error forwarding port ${remote}: ${err.message}\n`);
    sock.destroy();
  });
  ws.on("open", () => {
    sock.on("data", (d: Buffer) => {
      if (seen.has(0)) ws.send(Buffer.concat([Buffer.from([0]), d]));
      else pending.push(d);
    });
    sock.on("end", () => ws.close());
    sock.on("error", () => ws.close());
    sock.resume();
  });
  ws.on("message", (data: Buffer) => {
    if (data.length === 0) return;
    const channel = data[0] ?? 0;
    let payload = data.subarray(1);
    if (!seen.has(channel)) {
      // The first frame of each channel announces the port; anything after it is payload.
      seen.add(channel);
      payload = payload.subarray(2);
      if (channel === 0) for (const d of pending.splice(0)) ws.send(Buffer.concat([Buffer.from([0]), d]));
    }
    if (payload.length === 0) return;
    if (channel === 0) sock.write(payload);
    else if (channel === 1) ctx.printErr(`E0000 an error occurred forwarding ${remote}: ${payload.toString("utf8")}\n`);
  });
  ws.on("close", () => sock.end());
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
  const path = resourcePath(podsInfo(), pod.metadata.namespace, pod.metadata.name, "portforward");
  const addresses = o.address.split(",").map((a) => (a === "localhost" ? "127.0.0.1" : a));
  const servers: Server[] = [];
  for (const m of mappings) {
    for (const addr of addresses) {
      const server = createServer((sock) => forwardConnection(ctx, path, m.remote, sock));
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
  // Runs until interrupted, like kubectl.
  await new Promise<void>((resolve) => {
    const stop = () => {
      for (const s of servers) s.close();
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  return 0;
}
