// One listening socket of the userspace proxier (upstream's pkg/proxy/userspace/proxysocket.go):
// TCP (node:net) copies each accepted connection to an endpoint the balancer picks, trying the
// next one when a connect fails; UDP (node:dgram) keeps one connected socket per client address
// towards its endpoint, relaying replies back, closed after --udp-timeout without traffic.
// Which service a socket serves is looked up per connection (target()), so a node port that
// changes hands never needs its listener reopened.

import dgram from "node:dgram";
import net from "node:net";
import type { Logger } from "#pkg/runtime/log.js";

/** Picks an endpoint ("ip:port") for a client; undefined when the service has none. */
export type PickEndpoint = (clientIP: string | undefined) => string | undefined;

export interface ProxySocket {
  readonly protocol: "TCP" | "UDP";
  readonly address: string;
  readonly port: number;
  /** Open client connections (TCP) or UDP client flows. */
  readonly active: number;
  close(): Promise<void>;
}

function splitHostPort(ep: string): { host: string; port: number } {
  const i = ep.lastIndexOf(":");
  return { host: ep.slice(0, i), port: Number(ep.slice(i + 1)) };
}

const CONNECT_TIMEOUT_MS = [250, 500, 1000, 2000];

function connectTo(ep: string, timeoutMs: number): Promise<net.Socket> {
  const { host, port } = splitHostPort(ep);
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, noDelay: true, allowHalfOpen: true });
    const timer = setTimeout(() => s.destroy(new Error(`connect ${ep}: timed out after ${timeoutMs} ms`)), timeoutMs);
    s.once("connect", () => {
      clearTimeout(timer);
      s.removeListener("error", reject);
      resolve(s);
    });
    s.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** listenTCP opens a TCP proxy on address:port (0 = any free port). */
export async function listenTCP(o: {
  address: string;
  port: number;
  pick: PickEndpoint;
  log: Logger;
}): Promise<ProxySocket> {
  const open = new Set<net.Socket>();
  // Half-open both ways: a client that shuts down its sending side (nc, HTTP/1.0 clients) still
  // gets the answer; each side's FIN is passed on by pipe(), the sockets close when both ended.
  const server = net.createServer({ noDelay: true, pauseOnConnect: true, allowHalfOpen: true }, (client) => {
    open.add(client);
    client.once("close", () => open.delete(client));
    client.on("error", () => client.destroy());
    void (async () => {
      // Upstream tries up to four endpoints with growing timeouts before giving up.
      for (const timeoutMs of CONNECT_TIMEOUT_MS) {
        const ep = o.pick(client.remoteAddress);
        if (!ep) break;
        try {
          const backend = await connectTo(ep, timeoutMs);
          if (client.destroyed) {
            backend.destroy();
            return;
          }
          open.add(backend);
          backend.once("close", () => {
            open.delete(backend);
            client.destroy();
          });
          backend.on("error", () => backend.destroy());
          client.once("close", () => backend.destroy());
          client.pipe(backend);
          backend.pipe(client);
          client.resume();
          return;
        } catch (err) {
          o.log.debug({ err, endpoint: ep }, "userspace proxy: connect failed, trying another endpoint");
        }
      }
      // No endpoint (or none answered): refuse as a closed port would.
      client.resetAndDestroy();
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: o.address, port: o.port, exclusive: true }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    protocol: "TCP",
    address: o.address,
    port,
    get active() {
      return open.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        // Established connections go on until they end, as upstream's; only accepting stops.
        server.close(() => resolve());
      }),
  };
}

interface UdpFlow {
  socket: dgram.Socket;
  timer: NodeJS.Timeout;
}

/** listenUDP opens a UDP proxy on address:port; a client's flow ends after idleTimeoutMs without traffic. */
export async function listenUDP(o: {
  address: string;
  port: number;
  pick: PickEndpoint;
  idleTimeoutMs: number;
  log: Logger;
}): Promise<ProxySocket> {
  const server = dgram.createSocket({ type: "udp4", reuseAddr: false });
  const flows = new Map<string, UdpFlow>();
  const end = (key: string) => {
    const f = flows.get(key);
    if (!f) return;
    flows.delete(key);
    clearTimeout(f.timer);
    f.socket.close();
  };
  const touch = (key: string, f: UdpFlow) => {
    clearTimeout(f.timer);
    f.timer = setTimeout(() => end(key), o.idleTimeoutMs);
  };
  server.on("message", (msg, rinfo) => {
    const key = `${rinfo.address}:${rinfo.port}`;
    let flow = flows.get(key);
    if (!flow) {
      const ep = o.pick(rinfo.address);
      if (!ep) return;
      const { host, port } = splitHostPort(ep);
      const socket = dgram.createSocket("udp4");
      const f: UdpFlow = { socket, timer: setTimeout(() => end(key), o.idleTimeoutMs) };
      flow = f;
      flows.set(key, f);
      socket.on("message", (reply) => {
        touch(key, f);
        server.send(reply, rinfo.port, rinfo.address);
      });
      socket.on("error", (err) => {
        o.log.debug({ err, endpoint: ep }, "userspace proxy: UDP endpoint error");
        end(key);
      });
      socket.connect(port, host, () => {
        if (flows.get(key) === f) f.socket.send(msg);
      });
      return;
    }
    touch(key, flow);
    try {
      flow.socket.send(msg);
    } catch {
      // Not connected yet: the first datagram is still pending; drop this one as a network would.
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.bind({ address: o.address, port: o.port, exclusive: true }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => o.log.warn({ err }, "userspace proxy: UDP socket error"));
  const port = server.address().port;
  return {
    protocol: "UDP",
    address: o.address,
    port,
    get active() {
      return flows.size;
    },
    close: async () => {
      for (const key of [...flows.keys()]) end(key);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
