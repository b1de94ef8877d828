// The small HTTP server every component but the API server exposes (upstream: the scheduler's and
// controller-manager's --secure-port, the kubelet's healthz port, kube-proxy's 10256/10249):
// /healthz and /livez (the process is up and its checks pass), /readyz (ready to do its work, e.g.
// informers synced), /metrics (the process's prom-client registry). healthHandler is served
// behind authentication and authorization by the secure ports (pkg/server/delegated.ts, the
// kubelet's 10250); the plain-HTTP HealthServer is the kubelet's healthz port, given no registry:
// it reports whether the process is up and nothing else (/metrics needs credentials, as upstream).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** A check answers true (ok) or false / a reason string (failing). */
export type HealthCheck = () => boolean | string;

export interface HealthHandlerOptions {
  /** Served on /metrics; without one there is no /metrics. */
  registry?: Registry;
  /** Checked by /healthz and /livez; all must pass. */
  livez?: Record<string, HealthCheck>;
  /** Checked by /readyz (after the livez checks). */
  readyz?: Record<string, HealthCheck>;
}

export interface HealthServerOptions extends HealthHandlerOptions {
  /** Other routes of the component; return true when the request was answered. */
  handle?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/** A request handler that answers true when it took the request. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

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

function send(
  req: IncomingMessage,
  res: ServerResponse,
  code: number,
  body: string,
  type = "text/plain; charset=utf-8",
) {
  res.writeHead(code, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(req.method === "HEAD" ? undefined : body);
}

/**
 * healthHandler answers GET/HEAD /healthz, /livez, /readyz and /metrics, and returns false for
 * anything else: the HealthServer is built on it, and a component with a server of its own (the
 * kubelet's 10250) serves the same endpoints through it.
 */
export function healthHandler(o: HealthHandlerOptions): RequestHandler {
  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    switch ((req.url ?? "/").split("?")[0]) {
      case "/healthz":
      case "/livez": {
        const failed = run(o.livez ?? {});
        if (failed.length === 0) send(req, res, 200, "ok");
        else send(req, res, 500, `unhealthy: ${failed.join("; ")}`);
        return true;
      }
      case "/readyz": {
        const failed = [...run(o.livez ?? {}), ...run(o.readyz ?? {})];
        if (failed.length === 0) send(req, res, 200, "ok");
        else send(req, res, 503, `not ready: ${failed.join("; ")}`);
        return true;
      }
      case "/metrics": {
        const registry = o.registry;
        if (!registry) return false;
        registry.metrics().then(
          (text) => send(req, res, 200, text, registry.contentType),
          (err: unknown) => send(req, res, 500, `metrics: ${err instanceof Error ? err.message : String(err)}`),
        );
        return true;
      }
      default:
        return false;
    }
  };
}

export class HealthServer {
  readonly #server: Server;

  constructor(o: HealthServerOptions) {
    const health = healthHandler(o);
    this.#server = createServer((req, res) => {
      if (o.handle?.(req, res)) return;
      if (req.method !== "GET" && req.method !== "HEAD") return send(req, res, 405, "method not allowed");
      if (!health(req, res)) send(req, res, 404, "404 page not found");
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
