// kubeling-dns under load (issue 9): queries per second and latency of UDP queries from closed-loop
// clients (concurrency 1 and 16, one socket per client) for a ClusterIP Service's A record among
// 100 Services, a headless Service's 10 addresses, and an unknown name in the zone (NXDOMAIN),
// next to the floor measured in the same run: a process that answers every query with a fixed
// record through the same packet library (bench/dns-floor.ts). Each kubeling-dns row's note is
// its throughput as a fraction of the floor's at the same concurrency.

import { spawn } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { join } from "node:path";
import * as dns from "dns-packet";
import { ENDPOINTS, NAMESPACES, SERVICES } from "#pkg/api/resources.js";
import { KUBE_DNS_USER } from "#pkg/pki/cluster.js";
import type { TestApiServer } from "../test/harness/apiserver.js";
import { startDns } from "../test/harness/dns.js";
import { freePort } from "../test/harness/ports.js";
import { ROOT } from "../test/harness/process.js";
import { waitFor } from "../test/harness/wait.js";
import { type BenchRow, closedLoop, type LoadResult, row } from "./stats.js";

const NS = "bench-dns";
const SERVICES_N = 100;

/** A UDP client sending one query at a time and waiting for the answer with its id. */
class Resolver {
  readonly #sock: Socket = createSocket("udp4");
  #id = 0;
  #pending: { id: number; resolve: (rcode: number) => void; reject: (e: Error) => void } | undefined;

  constructor(private readonly port: number) {
    this.#sock.on("message", (m) => {
      const p = this.#pending;
      if (!p || m.readUInt16BE(0) !== p.id) return;
      this.#pending = undefined;
      p.resolve(m.readUInt16BE(2) & 0xf);
    });
  }

  query(name: string): Promise<number> {
    this.#id = (this.#id + 1) & 0xffff;
    const id = this.#id;
    const msg = dns.encode({ type: "query", id, flags: dns.RECURSION_DESIRED, questions: [{ type: "A", name }] });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending = undefined;
        reject(new Error(`no answer for ${name} in 2 s`));
      }, 2000);
      this.#pending = {
        id,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject,
      };
      this.#sock.send(msg, this.port, "127.0.0.1");
    });
  }

  close(): void {
    this.#sock.close();
  }
}

async function load(port: number, concurrency: number, durationMs: number, name: string, rcode: number) {
  const clients = Array.from({ length: concurrency }, () => new Resolver(port));
  let next = 0;
  try {
    // Each op takes the next client; with concurrency workers and as many clients, one query per client at a time.
    const free = [...clients];
    return await closedLoop({ concurrency, durationMs, warmupOps: 50 }, async () => {
      const c = free.pop() ?? (clients[next++ % clients.length] as Resolver);
      try {
        const got = await c.query(name);
        if (got !== rcode) throw new Error(`${name}: rcode ${got}, want ${rcode}`);
      } finally {
        free.push(c);
      }
    });
  } finally {
    for (const c of clients) c.close();
  }
}

export async function runDnsBench(o: {
  api: TestApiServer;
  durationMs: number;
  log: (msg: string) => void;
}): Promise<BenchRow[]> {
  const { api } = o;
  await api.client.create(NAMESPACES, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  for (let i = 0; i < SERVICES_N; i++)
    await api.client.create(SERVICES, NS, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: `svc-${i}` },
      spec: { ports: [{ name: "http", port: 80 }] },
    });
  await api.client.create(SERVICES, NS, {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "headless" },
    spec: { clusterIP: "None", ports: [{ name: "http", port: 80 }] },
  });
  await api.client.create(ENDPOINTS, NS, {
    apiVersion: "v1",
    kind: "Endpoints",
    metadata: { name: "headless" },
    subsets: [
      {
        addresses: Array.from({ length: 10 }, (_, i) => ({ ip: `10.244.0.${i + 1}` })),
        ports: [{ name: "http", port: 80 }],
      },
    ],
  });
  o.log(`dns: ${SERVICES_N} Services and a headless one in ${NS}`);

  const floor = spawn(
    process.execPath,
    ["--conditions=source", "--import", "tsx", join(ROOT, "bench", "dns-floor.ts")],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const dnsPort = await freePort();
  const server = await startDns({
    kubeconfigPath: await api.kubeconfigFor({ name: KUBE_DNS_USER }),
    address: "127.0.0.1",
    port: dnsPort,
    extraArgs: ["--no-publish", "--log-level=warn"],
  });
  try {
    const [line] = (await once(floor.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
    const floorPort = Number(String(line).trim());
    // The last Service is in the server's cache before any figure is taken.
    const last = `svc-${SERVICES_N - 1}.${NS}.svc.cluster.local`;
    await waitFor(
      async () => {
        const r = new Resolver(dnsPort);
        try {
          return (await r.query(last)) === 0;
        } finally {
          r.close();
        }
      },
      { timeoutMs: 30_000, message: `${last} resolves` },
    );
    const rows: BenchRow[] = [];
    for (const concurrency of [1, 16]) {
      const base = await load(floorPort, concurrency, o.durationMs, "x.example", 0);
      rows.push(row("dns", "floor: fixed answer (dns-packet)", base, { concurrency, note: "floor" }));
      const cases: Array<[string, string, number]> = [
        ["A: ClusterIP Service (of 101)", `svc-42.${NS}.svc.cluster.local`, 0],
        ["A: headless, 10 addresses", `headless.${NS}.svc.cluster.local`, 0],
        ["NXDOMAIN in the zone", `nope.${NS}.svc.cluster.local`, 3],
      ];
      for (const [label, name, rcode] of cases) {
        const r: LoadResult = await load(dnsPort, concurrency, o.durationMs, name, rcode);
        rows.push(
          row("dns", `kubeling-dns ${label}`, r, {
            concurrency,
            note: `${(r.opsPerSec / base.opsPerSec).toFixed(2)}× floor`,
          }),
        );
      }
      o.log(`dns: concurrency ${concurrency} done`);
    }
    return rows;
  } finally {
    floor.kill("SIGKILL");
    await server.stop();
  }
}
