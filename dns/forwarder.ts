// Forwarding of names outside the cluster's zone to the host's resolvers (CoreDNS's `forward .
// /etc/resolv.conf`): the query as the client sent it, over the client's transport, to each
// upstream in turn until one answers in time; answers are cached for their smallest TTL (at most
// 30 s, NXDOMAIN 5 s), so a pod's search-path walk does not hit the upstream for every name.

import { createSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { connect, isIPv6 } from "node:net";
import * as dns from "dns-packet";

export interface Upstream {
  host: string;
  port: number;
}

const MAX_CACHE_TTL_S = 30;
const NEGATIVE_TTL_S = 5;
const MAX_CACHE_ENTRIES = 10_000;

/** The nameservers of a resolv.conf (upstream: CoreDNS's forward plugin reading /etc/resolv.conf). */
export function resolvConfUpstreams(path = "/etc/resolv.conf"): Upstream[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => ({ host: m[1] as string, port: 53 }));
}

/** "1.2.3.4", "1.2.3.4:5353", "[::1]:53" → an upstream. */
export function parseUpstream(s: string): Upstream {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  if (!m && isIPv6(s)) return { host: s, port: 53 };
  if (!m) throw new Error(`invalid upstream ${JSON.stringify(s)}: want host or host:port`);
  const port = m[2] ? Number(m[2]) : 53;
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`invalid upstream port in ${JSON.stringify(s)}`);
  return { host: m[1] as string, port };
}

export interface ForwarderOptions {
  upstreams: Upstream[];
  /** Per upstream. */
  timeoutMs?: number;
  now?: () => number;
}

export class Forwarder {
  readonly upstreams: readonly Upstream[];
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { response: Buffer; expires: number }>();
  cacheHits = 0;
  cacheMisses = 0;

  constructor(o: ForwarderOptions) {
    this.upstreams = o.upstreams;
    this.#timeoutMs = o.timeoutMs ?? 2000;
    this.#now = o.now ?? Date.now;
  }

  /**
   * The upstream's response to query (with the query's id), or undefined when none answered.
   * key: the question, for the cache.
   */
  async forward(query: Buffer, key: string, transport: "udp" | "tcp"): Promise<Buffer | undefined> {
    const id = query.readUInt16BE(0);
    const hit = this.#cache.get(key);
    if (hit && hit.expires > this.#now()) {
      this.cacheHits++;
      const out = Buffer.from(hit.response);
      out.writeUInt16BE(id, 0);
      return out;
    }
    this.cacheMisses++;
    for (const u of this.upstreams) {
      try {
        const response = transport === "udp" ? await this.#udp(u, query) : await this.#tcp(u, query);
        this.#remember(key, response);
        return response;
      } catch {
        // That upstream is down or slow: the next one.
      }
    }
    return undefined;
  }

  #remember(key: string, response: Buffer): void {
    let packet: dns.DecodedPacket;
    try {
      packet = dns.decode(response);
    } catch {
      return;
    }
    // Truncated answers are retried over TCP by the client: not worth keeping.
    if (packet.flag_tc) return;
    const rcode = response.readUInt16BE(2) & 0xf;
    let ttl: number;
    if (rcode === 3) ttl = NEGATIVE_TTL_S;
    else if (rcode !== 0) return;
    else {
      const ttls = (packet.answers ?? []).map((a) => ("ttl" in a && typeof a.ttl === "number" ? a.ttl : 0));
      ttl = ttls.length ? Math.min(MAX_CACHE_TTL_S, ...ttls) : NEGATIVE_TTL_S;
    }
    if (ttl <= 0) return;
    if (this.#cache.size >= MAX_CACHE_ENTRIES) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    this.#cache.set(key, { response: Buffer.from(response), expires: this.#now() + ttl * 1000 });
  }

  #udp(u: Upstream, query: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = createSocket(isIPv6(u.host) ? "udp6" : "udp4");
      const timer = setTimeout(() => finish(new Error(`upstream ${u.host}:${u.port} timed out`)), this.#timeoutMs);
      const finish = (err: Error | undefined, msg?: Buffer) => {
        clearTimeout(timer);
        sock.close();
        if (err) reject(err);
        else resolve(msg as Buffer);
      };
      sock.on("error", (err) => finish(err));
      sock.on("message", (msg) => {
        // Another datagram on this socket is not the answer (same id, or nothing).
        if (msg.length >= 2 && msg.readUInt16BE(0) === query.readUInt16BE(0)) finish(undefined, msg);
      });
      sock.send(query, u.port, u.host);
    });
  }

  #tcp(u: Upstream, query: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const sock = connect({ host: u.host, port: u.port });
      let buf = Buffer.alloc(0);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`upstream ${u.host}:${u.port} timed out`));
      }, this.#timeoutMs);
      sock.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      sock.on("connect", () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(query.length, 0);
        sock.write(Buffer.concat([len, query]));
      });
      sock.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          clearTimeout(timer);
          sock.destroy();
          resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        }
      });
    });
  }
}
