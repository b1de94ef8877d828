// Helpers of the Service e2e tests (services, service-rollout): HTTP requests through a Service
// on new connections (each one balanced anew by kube-proxy), a bounded client loop that records
// every answer and failure while something changes underneath, and pod readiness as the
// endpoint controllers read it.

import http from "node:http";
import type { Pod } from "#pkg/api/types/index.js";
import { clusterContainers } from "./kubelet.js";

/** Ready and not being deleted: what the endpoint controllers put in the ready set. */
export const isReady = (p: Pod): boolean =>
  !p.metadata.deletionTimestamp &&
  (p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false);

/** One GET on a new connection (no keep-alive: each request is balanced anew); the body. */
export function get(host: string, port: number, timeoutMs = 3000, path = "/"): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => {
        body += d;
      });
      res.on("end", () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`GET ${host}:${port}: ${res.statusCode} ${body}`)),
      );
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${host}:${port} timed out`)));
    req.on("error", reject);
  });
}

/** n GETs, a few at a time; the count of answers per body. */
export async function spread(host: string, port: number, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < n) {
        next++;
        const body = await get(host, port);
        counts.set(body, (counts.get(body) ?? 0) + 1);
      }
    }),
  );
  return counts;
}

export interface LoopAnswer {
  /** When the request started (ms since the epoch). */
  at: number;
  /** The body (the answering pod's hostname), if it succeeded. */
  body?: string;
  /** What went wrong, if it failed. */
  error?: string;
}

export interface RequestLoop {
  answers: LoopAnswer[];
  /** Ends the loop (in-flight requests finish) and resolves with every answer. */
  stop(): Promise<LoopAnswer[]>;
}

/**
 * requestLoop sends GETs on new connections from `workers` concurrent clients until stop(), or
 * until maxRequests or maxMs is reached (so it always ends by itself), recording each answer.
 */
export function requestLoop(
  host: string,
  port: number,
  o: { workers?: number; maxRequests?: number; maxMs?: number; timeoutMs?: number } = {},
): RequestLoop {
  const answers: LoopAnswer[] = [];
  const maxRequests = o.maxRequests ?? 50_000;
  const deadline = Date.now() + (o.maxMs ?? 180_000);
  let stopped = false;
  let sent = 0;
  const workers = Array.from({ length: o.workers ?? 4 }, async () => {
    while (!stopped && sent < maxRequests && Date.now() < deadline) {
      sent++;
      const at = Date.now();
      try {
        answers.push({ at, body: await get(host, port, o.timeoutMs ?? 3000) });
      } catch (err) {
        answers.push({ at, error: (err as Error).message });
      }
    }
  });
  const all = Promise.all(workers);
  return {
    answers,
    stop: async () => {
      stopped = true;
      await all;
      return answers;
    },
  };
}

/** podContainer: the Docker id of a pod's running container (by the kubelet's labels), if any. */
export async function podContainer(clusterName: string, pod: string, container: string): Promise<string | undefined> {
  const cs = await clusterContainers(clusterName);
  return cs.find(
    (x) =>
      x.State === "running" &&
      x.Labels?.["io.kubernetes.pod.name"] === pod &&
      x.Labels?.["io.kubernetes.container.name"] === container,
  )?.Id;
}
