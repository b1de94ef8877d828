// What encryption at rest costs Secret requests (issue 10): the same Secret creates and gets
// (about 1 KB of data each) against API servers on one etcd, one with no
// --encryption-provider-config (identity: plain JSON in etcd) and one per provider (aescbc,
// aesgcm, secretbox; one 32-byte key, then identity), at concurrency 1 and 16. A GET reads etcd
// and decrypts every time (no resourceVersion=0, so not from the watch cache); a create encrypts
// once. The rounds alternate between the servers (two each, the best kept) so other load on the
// box falls on all alike; each provider's row is a ratio to the identity row measured beside it.

import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encryptionConfigText } from "#pkg/pki/encryption.js";
import { startApiServer, type TestApiServer } from "../test/harness/apiserver.js";
import { BenchHttp } from "./http.js";
import { type BenchRow, closedLoop, type LoadResult, row } from "./stats.js";

export interface EncryptionBenchOptions {
  /** The etcd every API server stores in (under prefixes of their own). */
  etcd: string;
  durationMs: number;
  log: (msg: string) => void;
  /** Alternating rounds per server and case (default 2; the best kept). */
  rounds?: number;
  /** Secrets read by the get case (default 100). */
  objects?: number;
}

const NS = "bench-encryption";
const DATA_BYTES = 1024;
const PROVIDERS = ["aescbc", "aesgcm", "secretbox"] as const;

interface Mode {
  label: string;
  server: TestApiServer;
  http: BenchHttp;
}

function secret(name: string, data: string): object {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: NS, labels: { app: "kubeling-bench" } },
    type: "Opaque",
    data: { "payload.bin": data },
  };
}

const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : "-");

export async function runEncryptionBench(o: EncryptionBenchOptions): Promise<BenchRow[]> {
  const rounds = o.rounds ?? 2;
  const objects = o.objects ?? 100;
  const dir = mkdtempSync(join(tmpdir(), "kubeling-bench-encryption-"));
  const modes: Mode[] = [];
  const servers: TestApiServer[] = [];
  try {
    const configs: [string, string | false][] = [["identity", false]];
    for (const provider of PROVIDERS) {
      const path = join(dir, `${provider}.yaml`);
      writeFileSync(path, encryptionConfigText([{ name: "key1", secret: randomBytes(32) }], { provider }), {
        mode: 0o600,
      });
      configs.push([provider, path]);
    }
    const started = await Promise.all(
      configs.map(([, encryptionConfig]) =>
        startApiServer({ etcd: o.etcd, encryptionConfig, extraArgs: ["--log-level=warn"] }),
      ),
    );
    servers.push(...started);
    // Base64 of random bytes: what a Secret's data looks like, and nothing a cipher could shrink.
    const data = randomBytes(DATA_BYTES).toString("base64");
    for (const [i, [label]] of configs.entries()) {
      const server = started[i] as TestApiServer;
      const http = new BenchHttp(server, 16);
      modes.push({ label, server, http });
      await http.ensureNamespace(NS);
      await closedLoop({ concurrency: 8, durationMs: 120_000, maxOps: objects }, (n) =>
        http.expect("POST", `/api/v1/namespaces/${NS}/secrets`, [201, 409], secret(`read-${n}`, data)),
      );
    }
    o.log(`encryption: ${objects} Secrets on each of ${modes.map((m) => m.label).join(", ")}`);

    const base = `/api/v1/namespaces/${NS}/secrets`;
    let serial = 0;
    const cases = [
      {
        name: "create Secret",
        op: (http: BenchHttp) => http.expect("POST", base, [201], secret(`w-${serial++}`, data)),
      },
      {
        name: "get Secret",
        op: (http: BenchHttp, i: number) => http.expect("GET", `${base}/read-${Math.abs(i * 7919) % objects}`, [200]),
      },
    ];
    const rows: BenchRow[] = [];
    for (const c of cases) {
      for (const concurrency of [1, 16]) {
        const best = new Map<string, LoadResult>();
        for (let r = 0; r < rounds; r++) {
          const order = r % 2 === 0 ? modes : [...modes].reverse();
          for (const m of order) {
            const res = await closedLoop({ concurrency, durationMs: o.durationMs, warmupOps: 20 }, (i) =>
              c.op(m.http, i),
            );
            const prev = best.get(m.label);
            if (!prev || res.opsPerSec > prev.opsPerSec) best.set(m.label, res);
          }
        }
        const floor = best.get("identity") as LoadResult;
        o.log(
          `encryption: ${c.name} c${concurrency}: ${modes.map((m) => `${m.label} ${Math.round(best.get(m.label)?.opsPerSec ?? 0)}/s`).join(", ")}`,
        );
        rows.push(row("encryption", `${c.name}: identity (no encryption)`, floor, { concurrency }));
        for (const p of PROVIDERS) {
          const res = best.get(p) as LoadResult;
          rows.push(
            row("encryption", `${c.name}: ${p}`, res, {
              concurrency,
              reference: `${ratio(res.opsPerSec, floor.opsPerSec)}× identity's ops/s`,
              note: `p50 ${ratio(res.p50Ms, floor.p50Ms)}×, p99 ${ratio(res.p99Ms, floor.p99Ms)}× identity's`,
            }),
          );
        }
      }
    }
    return rows;
  } finally {
    await Promise.allSettled(modes.map((m) => m.http.close()));
    await Promise.allSettled(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}
