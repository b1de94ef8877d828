// The scheduler's own HTTP endpoint (upstream serves these on --secure-port 10259):
// /healthz and /livez (process up), /readyz (informers synced), /metrics (Prometheus text).
// Plain HTTP: it carries no secrets and only reports on this process.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface HealthSource {
  hasSynced(): boolean;
  metricsText(): string;
}

export class SchedulerServer {
  readonly #server: Server;

  constructor(src: HealthSource) {
    this.#server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      const send = (code: number, body: string, type = "text/plain; charset=utf-8") => {
        res.writeHead(code, { "content-type": type, "content-length": Buffer.byteLength(body) });
        res.end(req.method === "HEAD" ? undefined : body);
      };
      if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed");
      switch (path) {
        case "/healthz":
        case "/livez":
          return send(200, "ok");
        case "/readyz":
          return src.hasSynced() ? send(200, "ok") : send(503, "informers not synced");
        case "/metrics":
          return send(200, src.metricsText(), "text/plain; version=0.0.4; charset=utf-8");
        default:
          return send(404, "404 page not found");
      }
    });
  }

  /** listen binds address:port (0 = any free port) and returns the port. */
  listen(port: number, address: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, address, () => {
        this.#server.off("error", reject);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
