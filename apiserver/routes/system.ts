// Non-resource endpoints: /healthz, /livez, /readyz (etcd through registry.healthy()),
// /version and /metrics.

import type { FastifyInstance } from "fastify";
import { metaTime } from "#pkg/api/time.js";
import type { RegistryView } from "../http/types.js";
import type { ApiMetrics } from "../metrics.js";

/**
 * KUBERNETES_VERSION: the newest upstream release whose API behaviour kubeling follows; /version
 * and the OpenAPI documents' info report it, kubeling's own version as build metadata.
 */
export const KUBERNETES_VERSION = "v1.33.0";

/**
 * VERSION is what /version reports. The minor matters: the /usr/bin/kubectl dispatcher runs the
 * kubectl whose minor matches it (1.33, which POSTs protobuf from `kubectl create <generator>`,
 * KUBECTL_WIRE 1.1, 1.3; the API server decodes those).
 */
export const VERSION_INFO = Object.freeze({
  major: "1",
  minor: "33",
  gitVersion: `${KUBERNETES_VERSION}+kubeling.0.1.0`,
  gitCommit: "",
  gitTreeState: "clean",
  buildDate: metaTime(),
  goVersion: `node-${process.version}`,
  compiler: "node",
  platform: `${process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`,
});

/** OPEN_PATHS need no token, as upstream's system:public-info-viewer role allows. */
export const OPEN_PATHS: ReadonlySet<string> = new Set(["/healthz", "/livez", "/readyz", "/version"]);

export function registerSystemRoutes(
  app: FastifyInstance,
  deps: { registry: RegistryView; metrics: ApiMetrics; isShuttingDown: () => boolean },
): void {
  const ok = (_req: unknown, reply: import("fastify").FastifyReply) =>
    reply.code(200).header("content-type", "text/plain; charset=utf-8").send("ok");
  app.get("/healthz", ok);
  app.get("/livez", ok);
  app.get("/readyz", async (_req, reply) => {
    const healthy = !deps.isShuttingDown() && (await deps.registry.healthy().catch(() => false));
    if (healthy) return reply.code(200).header("content-type", "text/plain; charset=utf-8").send("ok");
    const why = deps.isShuttingDown()
      ? "[-]shutdown failed: process is shutting down"
      : "[-]etcd failed: etcd is not reachable";
    return reply.code(500).header("content-type", "text/plain; charset=utf-8").send(`${why}\nreadyz check failed\n`);
  });
  const versionBody = Buffer.from(JSON.stringify(VERSION_INFO));
  app.get("/version", (_req, reply) => reply.code(200).header("content-type", "application/json").send(versionBody));
  app.get("/metrics", async (_req, reply) =>
    reply
      .code(200)
      .header("content-type", deps.metrics.contentType)
      .send(await deps.metrics.render()),
  );
}
