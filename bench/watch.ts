// Watch fan-out: W watchers (one HTTP/1.1 stream each, as W separate clients would have) on one
// namespace's ConfigMaps; sequential writes, each waiting until every watcher has seen it.
// Latency is measured from the write's response (ack) to each watcher receiving the event, and
// from just before the request was sent. All watchers live in this one process, so the figures
// include this process decoding W copies of every event on the same 2 cores as the server.

import { performance } from "node:perf_hooks";
import { BenchHttp, type BenchTarget, configMap } from "./http.js";
import { type BenchRow, payload, summarize } from "./stats.js";

export interface WatchBenchOptions {
  target: BenchTarget;
  watchers: number;
  writes: number;
  /** Deadline for every watcher to see one write. */
  deliveryTimeoutMs?: number;
}

interface Watcher {
  /** Resolves when the name is seen, with the receive time. */
  seen: Map<string, number>;
  abort: AbortController;
  done: Promise<void>;
  error?: Error;
}

async function openWatcher(
  pool: BenchHttp,
  path: string,
  headers: Record<string, string>,
  onEvent: (name: string, at: number) => void,
): Promise<Watcher> {
  const abort = new AbortController();
  const w: Watcher = { seen: new Map(), abort, done: Promise.resolve() };
  w.done = (async () => {
    try {
      const res = await pool.pool.request({ method: "GET", path, headers, signal: abort.signal });
      if (res.statusCode !== 200) throw new Error(`watch ${path}: HTTP ${res.statusCode}: ${await res.body.text()}`);
      res.body.setEncoding("utf8");
      let buf = "";
      for await (const chunk of res.body as AsyncIterable<string>) {
        const at = performance.now();
        buf += chunk;
        let nl = buf.indexOf("\n");
        while (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          nl = buf.indexOf("\n");
          if (!line.trim()) continue;
          const ev = JSON.parse(line) as { type: string; object?: { metadata?: { name?: string } } };
          if (ev.type === "ERROR") throw new Error(`watch ERROR event: ${line.slice(0, 300)}`);
          const name = ev.object?.metadata?.name;
          if (name && !w.seen.has(name)) {
            w.seen.set(name, at);
            onEvent(name, at);
          }
        }
      }
    } catch (err) {
      if (!abort.signal.aborted) w.error = err instanceof Error ? err : new Error(String(err));
    }
  })();
  return w;
}

export async function benchWatch(o: WatchBenchOptions): Promise<BenchRow[]> {
  const ns = `bench-watch-${o.watchers}`;
  const timeout = o.deliveryTimeoutMs ?? 15_000;
  const writer = new BenchHttp(o.target, 2);
  const streams = new BenchHttp(o.target, o.watchers);
  const watchers: Watcher[] = [];
  try {
    await writer.ensureNamespace(ns);
    const base = `/api/v1/namespaces/${ns}/configmaps`;
    const list = JSON.parse(await writer.expect("GET", `${base}?limit=1`, [200])) as {
      metadata: { resourceVersion: string };
    };
    const rv = list.metadata.resourceVersion;
    const path = `${base}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=false`;
    const headers = { authorization: `Bearer ${o.target.token}`, accept: "application/json" };

    // Pending deliveries of the current write: resolved when all watchers have the name.
    let pending: { name: string; left: number; resolve: () => void } | undefined;
    const onEvent = (name: string): void => {
      if (pending && pending.name === name && --pending.left === 0) pending.resolve();
    };
    const writeAndWait = async (name: string): Promise<{ sent: number; ack: number }> => {
      const all = new Promise<void>((resolve) => {
        pending = { name, left: watchers.length, resolve };
      });
      const sent = performance.now();
      await writer.expect("POST", base, [201], configMap(ns, name, data));
      const ack = performance.now();
      // Events that beat the ack were already counted down by onEvent.
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const missing = watchers.filter((w) => !w.seen.has(name)).length;
          const broken = watchers.find((w) => w.error)?.error?.message;
          reject(
            new Error(
              `${missing} of ${watchers.length} watchers did not see ${name} in ${timeout} ms` +
                (broken ? `; a watch failed: ${broken}` : ""),
            ),
          );
        }, timeout);
      });
      try {
        await Promise.race([all, expired]);
      } finally {
        clearTimeout(timer);
      }
      return { sent, ack };
    };
    const data = payload(1200, 11);

    // Open in batches so TLS handshakes don't all land at once.
    for (let i = 0; i < o.watchers; i += 50) {
      const batch = Math.min(50, o.watchers - i);
      watchers.push(
        ...(await Promise.all(Array.from({ length: batch }, () => openWatcher(streams, path, headers, onEvent)))),
      );
    }
    // A marker write proves every stream is established before anything is timed.
    const warm = performance.now();
    await writeAndWait("marker");
    const establishMs = performance.now() - warm;

    const fromAck: number[] = [];
    const fromSend: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < o.writes; i++) {
      const name = `w-${i}`;
      const { sent, ack } = await writeAndWait(name);
      for (const w of watchers) {
        const at = w.seen.get(name);
        if (at === undefined) continue;
        fromAck.push(Math.max(0, at - ack));
        fromSend.push(at - sent);
      }
    }
    const wall = performance.now() - t0;
    const deliveries = fromAck.length;
    const rate = (deliveries / wall) * 1000;
    const ackSummary = summarize(fromAck);
    const sendSummary = summarize(fromSend);
    const label = `${o.watchers} watcher${o.watchers === 1 ? "" : "s"}`;
    const ackRow: BenchRow = {
      group: "watch",
      name: `${label}: write ack -> event`,
      concurrency: o.watchers,
      n: deliveries,
      opsPerSec: rate,
      p50Ms: ackSummary.p50Ms,
      p99Ms: ackSummary.p99Ms,
      maxMs: ackSummary.maxMs,
      reference: o.watchers === 1 ? "etcd, 1 watcher: 0.23 / 0.56" : "etcd, 100 watchers: 116 / 306",
      note: `${o.writes} sequential writes; ops/s = deliveries/s; 0 = event before the write's response; ${o.watchers} stream(s) set up in ${establishMs.toFixed(0)} ms`,
    };
    const sendRow: BenchRow = {
      group: "watch",
      name: `${label}: request sent -> event`,
      concurrency: o.watchers,
      n: deliveries,
      p50Ms: sendSummary.p50Ms,
      p99Ms: sendSummary.p99Ms,
      maxMs: sendSummary.maxMs,
      reference: o.watchers === 1 ? "etcd, 1 watcher: 1.19 / 4.46" : "etcd, 100 watchers: 117 / 308",
    };
    return [ackRow, sendRow];
  } finally {
    for (const w of watchers) w.abort.abort();
    await Promise.allSettled(watchers.map((w) => w.done));
    await Promise.allSettled([writer.close(), streams.destroy()]);
  }
}
