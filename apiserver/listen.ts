// More listening addresses for the one HTTPS server (--bind-address with several addresses).
// Fastify listens on one address; every other address gets a plain TCP listener that hands each
// accepted socket to that server's "connection" event, the documented way to feed a TLS server a
// connection: the handshake, client certificates, keep-alive, connection tracking (the forced
// close on shutdown) and the peer address (audit's sourceIPs) are the same as on the first one.

import type { Server as NetServer } from "node:net";
import { createServer } from "node:net";

export interface ExtraListener {
  address: string;
  /** Stops accepting; connections already handed over belong to the main server. */
  close(): Promise<void>;
}

/** listenAlso makes target serve host:port too; rejects when that address cannot be bound. */
export function listenAlso(target: NetServer, host: string, port: number): Promise<ExtraListener> {
  const srv = createServer({ pauseOnConnect: false }, (socket) => {
    target.emit("connection", socket);
  });
  return new Promise((resolve, reject) => {
    srv.once("error", reject);
    srv.listen({ host, port }, () => {
      srv.off("error", reject);
      resolve({
        address: host,
        close: () => new Promise<void>((res) => srv.close(() => res())),
      });
    });
  });
}
