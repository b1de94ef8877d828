// The small HTTP server every component but the API server exposes (upstream: the scheduler's and
// controller-manager's --secure-port, the kubelet's healthz port, kube-proxy's 10256/10249):
// /healthz and /livez (the process is up and its checks pass), /readyz (ready to do its work, e.g.
// informers synced), /metrics (the process's prom-client registry).
// Plain HTTP: it carries no secrets and only reports on this process.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** A check answers true (ok) or false / a reason string (failing). */
export type HealthCheck = () => boolean | string;

export interface HealthServerOptions {
  registry: Registry;
  /** Checked by /healthz and /livez; all must pass. */
  livez?: Record<string, HealthCheck>;
  /** Checked by /readyz (after the livez checks). */
  readyz?: Record<string, HealthCheck>;
  /** Other routes of the component; return true when the request was answered. */
  handle?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

function run(checks: Record<string, HealthCheck>): string[] {
  const failed: string[] = [];
  for (const [name, check] of Object.entries(checks)) {
    let r: boolean | string;
    try {
      r = check();
    } catch (err) {
      r = err instanceof Error ? err.message : String(err);
    }
    if (r !== true) failed.push(typeof r === "string" ? `${name}: ${r}` : name);
  }
  return failed;
}

export class HealthServer {
  readonly #server: Server;

  constructor(o: HealthServerOptions) {
    this.#server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0];
      const send = (code: number, body: string, type = "text/plain; charset=utf-8") => {
        res.writeHead(code, { "content-type": type, "content-length": Buffer.byteLength(body) });
        res.end(req.method === "HEAD" ? undefined : body);
      };
      if (o.handle?.(req, res)) return;
      if (req.method !== "GET" && req.method !== "HEAD") return send(405, "method not allowed");
      switch (path) {
        case "/healthz":
        case "/livez": {
          const failed = run(o.livez ?? {});
          return failed.length === 0 ? send(200, "ok") : send(500, `unhealthy: ${failed.join("; ")}`);
        }
        case "/readyz": {
          const failed = [...run(o.livez ?? {}), ...run(o.readyz ?? {})];
          return failed.length === 0 ? send(200, "ok") : send(503, `not ready: ${failed.join("; ")}`);
        }
        case "/metrics":
          o.registry.metrics().then(
            (text) => send(200, text, o.registry.contentType),
            (err: unknown) => send(500, `metrics: ${err instanceof Error ? err.message : String(err)}`),
          );
          return;
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
