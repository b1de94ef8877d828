// Shared measurement helpers for every benchmark module: closed-loop load with N workers,
// latency percentiles, and the row shape the table printer and the JSON file use.

import { performance } from "node:perf_hooks";

/** One line of the results table (and one entry of the JSON file). */
export interface BenchRow {
  /** Section: "etcd", "api", "watch", ... */
  group: string;
  name: string;
  concurrency?: number;
  /** Operations (or deliveries) measured. */
  n: number;
  /** Completed operations per second of wall time, when the row is a throughput run. */
  opsPerSec?: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** What reference/PERF.md measured for the closest equivalent, to read the row against. */
  reference?: string;
  note?: string;
}

export interface Summary {
  n: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

/** percentile of an ascending-sorted array (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? Number.NaN;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    n: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1] ?? Number.NaN,
    meanMs: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

export interface LoadResult extends Summary {
  opsPerSec: number;
  errors: number;
  firstError?: string;
}

/**
 * closedLoop runs `concurrency` workers, each calling op(i) back to back, until durationMs has
 * passed or maxOps operations have started. A failed op counts as an error (first one kept) and
 * its latency is not recorded; more than 1% errors fails the run, since the figures would lie.
 */
export async function closedLoop(
  o: { concurrency: number; durationMs: number; maxOps?: number; warmupOps?: number },
  op: (i: number) => Promise<unknown>,
): Promise<LoadResult> {
  for (let i = 0; i < (o.warmupOps ?? 0); i++) await op(-1 - i);
  const latencies: number[] = [];
  let started = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const deadline = t0 + o.durationMs;
  const max = o.maxOps ?? Number.POSITIVE_INFINITY;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline && started < max) {
      const i = started++;
      const s = performance.now();
      try {
        await op(i);
        latencies.push(performance.now() - s);
      } catch (err) {
        errors++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const wall = performance.now() - t0;
  if (errors > Math.max(1, started * 0.01)) {
    throw new Error(`${errors} of ${started} operations failed; first: ${firstError}`);
  }
  const res: LoadResult = { ...summarize(latencies), opsPerSec: (latencies.length / wall) * 1000, errors };
  if (firstError !== undefined) res.firstError = firstError;
  return res;
}

/** repeat runs op sequentially `count` times and summarizes the latencies. */
export async function repeat(count: number, op: (i: number) => Promise<unknown>): Promise<Summary> {
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = performance.now();
    await op(i);
    latencies.push(performance.now() - s);
  }
  return summarize(latencies);
}

/** A ~size-byte printable payload (distinct per seed so nothing compresses or dedups it away). */
export function payload(size: number, seed: number): string {
  const unit = `${seed.toString(36)}-abcdefghijklmnopqrstuvwxyz0123456789-`;
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

export function row(group: string, name: string, s: Summary | LoadResult, extra: Partial<BenchRow> = {}): BenchRow {
  const r: BenchRow = { group, name, n: s.n, p50Ms: s.p50Ms, p99Ms: s.p99Ms, maxMs: s.maxMs, ...extra };
  if ("opsPerSec" in s) r.opsPerSec = s.opsPerSec;
  return r;
}

function fmtMs(v: number): string {
  if (!Number.isFinite(v)) return "-";
  return v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0);
}

/** formatTable renders rows as an aligned plain-text table, one section per group. */
export function formatTable(rows: readonly BenchRow[]): string {
  const header = ["group", "benchmark", "conc", "n", "ops/s", "p50 ms", "p99 ms", "max ms", "PERF.md reference"];
  const cells = rows.map((r) => [
    r.group,
    r.name,
    r.concurrency === undefined ? "" : String(r.concurrency),
    String(r.n),
    r.opsPerSec === undefined ? "" : Math.round(r.opsPerSec).toLocaleString("en-US"),
    fmtMs(r.p50Ms),
    fmtMs(r.p99Ms),
    fmtMs(r.maxMs),
    r.reference ?? "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const numeric = new Set([2, 3, 4, 5, 6, 7]);
  const line = (c: string[]): string =>
    c
      .map((v, i) => (numeric.has(i) ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  ")];
  let last = "";
  for (const [i, c] of cells.entries()) {
    const g = rows[i]?.group ?? "";
    if (last && g !== last) out.push("");
    last = g;
    out.push(line(c));
  }
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.group}/${r.name}: ${r.note}`);
  if (notes.length) out.push("", "notes:", ...notes);
  return out.join("\n");
}
