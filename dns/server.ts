// The DNS server of kubeling-dns: UDP and TCP on one port, each query answered from the cluster's
// records (authoritative for the zone) or forwarded. Packets are encoded and decoded with
// dns-packet. Over UDP an answer larger than the client allows (512 bytes, or its EDNS0 size) is
// sent truncated (TC) so that the client retries over TCP, as RFC 1035 and 6891 say.

import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { createServer, type Socket, type Server as TcpServer } from "node:net";
import { performance } from "node:perf_hooks";
import * as dns from "dns-packet";
import { Counter, Histogram, type Registry } from "prom-client";
import type { Logger } from "#pkg/runtime/log.js";
import type { Forwarder } from "./forwarder.js";
import type { ClusterRecords, RecordType, Resolution } from "./records.js";

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
type Rcode = keyof typeof RCODE;
/** rcode number → its name, for the responses metric. */
const RCODE_NAMES: readonly string[] = Object.keys(RCODE);
const UDP_DEFAULT_SIZE = 512;
const OPCODE_QUERY = 0;

const KNOWN_TYPES = new Set<string>(["A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "SOA", "NS", "ANY"]);

export interface DnsServerOptions {
  records: ClusterRecords;
  /** Names outside the zone; absent: SERVFAIL for them. */
  forwarder?: Forwarder;
  registry: Registry;
  log: Logger;
}

export class DnsServer {
  readonly #o: DnsServerOptions;
  readonly #requests: Counter<"proto" | "type">;
  readonly #responses: Counter<"rcode">;
  readonly #duration: Histogram<"proto">;
  #udp: UdpSocket | undefined;
  #tcp: TcpServer | undefined;
  readonly #tcpSockets = new Set<Socket>();
  /** Labelled children of the metrics, made once: a query pays an increment, not a label lookup. */
  readonly #children = new Map<string, { inc(): void }>();
  readonly #timers = new Map<string, { observe(v: number): void }>();

  constructor(o: DnsServerOptions) {
    this.#o = o;
    this.#requests = new Counter({
      name: "kubeling_dns_requests_total",
      help: "DNS queries received, by transport and question type.",
      labelNames: ["proto", "type"],
      registers: [o.registry],
    });
    this.#responses = new Counter({
      name: "kubeling_dns_responses_total",
      help: "DNS responses sent, by rcode.",
      labelNames: ["rcode"],
      registers: [o.registry],
    });
    this.#duration = new Histogram({
      name: "kubeling_dns_request_duration_seconds",
      help: "Time from a query's arrival to its answer.",
      labelNames: ["proto"],
      buckets: [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [o.registry],
    });
    const forwarder = o.forwarder;
    new Counter({
      name: "kubeling_dns_cache_hits_total",
      help: "Forwarded questions answered from the cache.",
      registers: [o.registry],
      collect() {
        this.reset();
        this.inc(forwarder?.cacheHits ?? 0);
      },
    });
    new Counter({
      name: "kubeling_dns_cache_misses_total",
      help: "Forwarded questions sent to an upstream.",
      registers: [o.registry],
      collect() {
        this.reset();
        this.inc(forwarder?.cacheMisses ?? 0);
      },
    });
  }

  /** Listens on address:port over UDP and TCP (port 0: any, the same for both); returns the port. */
  async listen(port: number, address: string): Promise<number> {
    const udp = createSocket({ type: address.includes(":") ? "udp6" : "udp4", reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      udp.once("error", reject);
      udp.bind(port, address, () => {
        udp.off("error", reject);
        resolve();
      });
    });
    const bound = udp.address().port;
    udp.on("message", (msg, rinfo) => {
      void this.#answer(msg, "udp").then((out) => {
        if (out) udp.send(out, rinfo.port, rinfo.address);
      });
    });
    udp.on("error", (err) => this.#o.log.error({ err }, "UDP socket error"));
    const tcp = createServer((sock) => this.#serveTcp(sock));
    await new Promise<void>((resolve, reject) => {
      tcp.once("error", reject);
      tcp.listen(bound, address, () => {
        tcp.off("error", reject);
        resolve();
      });
    }).catch((err: unknown) => {
      udp.close();
      throw err;
    });
    this.#udp = udp;
    this.#tcp = tcp;
    return bound;
  }

  async close(): Promise<void> {
    this.#udp?.close();
    for (const s of this.#tcpSockets) s.destroy();
    await new Promise<void>((resolve) => (this.#tcp ? this.#tcp.close(() => resolve()) : resolve()));
  }

  /** One TCP connection: length-prefixed messages (RFC 1035 4.2.2), answered in order. */
  #serveTcp(sock: Socket): void {
    this.#tcpSockets.add(sock);
    sock.on("close", () => this.#tcpSockets.delete(sock));
    sock.on("error", () => sock.destroy());
    sock.setTimeout(30_000, () => sock.destroy());
    let buf = Buffer.alloc(0);
    let chain = Promise.resolve();
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + msg.length);
        chain = chain.then(async () => {
          const out = await this.#answer(Buffer.from(msg), "tcp");
          if (!out || sock.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length, 0);
          sock.write(Buffer.concat([len, out]));
        });
      }
    });
  }

  #count(metric: "requests" | "responses", a: string, b = ""): void {
    const key = `${metric}|${a}|${b}`;
    let child = this.#children.get(key);
    if (!child) {
      child = metric === "requests" ? this.#requests.labels(a, b) : this.#responses.labels(a);
      this.#children.set(key, child);
    }
    child.inc();
  }

  async #answer(msg: Buffer, proto: "udp" | "tcp"): Promise<Buffer | undefined> {
    const t0 = performance.now();
    try {
      const out = await this.handle(msg, proto);
      if (out && out.length >= 4) this.#count("responses", RCODE_NAMES[out.readUInt16BE(2) & 0xf] ?? "OTHER");
      return out;
    } catch (err) {
      this.#o.log.error({ err }, "DNS query failed");
      return undefined;
    } finally {
      let timer = this.#timers.get(proto);
      if (!timer) {
        timer = this.#duration.labels(proto);
        this.#timers.set(proto, timer);
      }
      timer.observe((performance.now() - t0) / 1000);
    }
  }

  /** The response to one query message; undefined when it cannot be answered at all. */
  async handle(msg: Buffer, proto: "udp" | "tcp"): Promise<Buffer | undefined> {
    let q: dns.DecodedPacket;
    try {
      q = dns.decode(msg);
    } catch {
      // A header we can read gets FORMERR; anything shorter is dropped.
      if (msg.length < 12) return undefined;
      return this.#reply({ id: msg.readUInt16BE(0), flags: msg.readUInt16BE(2), questions: [] }, "FORMERR", []);
    }
    const question = q.questions?.[0];
    const type = question ? String(question.type) : "";
    this.#count("requests", proto, KNOWN_TYPES.has(type) ? type : "other");
    const opcode = ((q.flags ?? 0) >> 11) & 0xf;
    if (opcode !== OPCODE_QUERY) return this.#reply(q, "NOTIMP", []);
    if (!question || (q.questions?.length ?? 0) !== 1) return this.#reply(q, "FORMERR", []);
    const resolution: Resolution = KNOWN_TYPES.has(type)
      ? this.#o.records.resolve(question.name, type as RecordType)
      : this.#o.records.resolve(question.name, "A").kind === "forward"
        ? { kind: "forward" }
        : { kind: "nodata" };
    if (resolution.kind === "forward") {
      const fw = this.#o.forwarder;
      const key = `${question.name.toLowerCase()}|${type}|${question.class ?? "IN"}`;
      const answer = fw ? await fw.forward(msg, key, proto) : undefined;
      return answer ?? this.#reply(q, "SERVFAIL", []);
    }
    const soa = [this.#o.records.soa()];
    if (resolution.kind === "nxdomain") return this.#reply(q, "NXDOMAIN", [], [], soa, true, proto);
    if (resolution.kind === "nodata") return this.#reply(q, "NOERROR", [], [], soa, true, proto);
    const chased = await this.#chase(resolution.answers, type, proto);
    return this.#reply(q, "NOERROR", [...resolution.answers, ...chased], resolution.additionals, [], true, proto);
  }

  /**
   * An ExternalName's CNAME answered for another type: the target's records too, as CoreDNS
   * adds them (a stub resolver such as glibc's does not follow a CNAME by itself).
   */
  async #chase(answers: dns.Answer[], type: string, proto: "udp" | "tcp"): Promise<dns.Answer[]> {
    const cname = answers.length === 1 && answers[0]?.type === "CNAME" ? answers[0] : undefined;
    if (!cname || type === "CNAME" || !KNOWN_TYPES.has(type)) return [];
    const target = String(cname.data);
    const inZone = this.#o.records.resolve(target, type as RecordType);
    if (inZone.kind === "answer") return inZone.answers.filter((a) => a.type !== "CNAME");
    if (inZone.kind !== "forward" || !this.#o.forwarder) return [];
    const query = dns.encode({
      type: "query",
      id: Math.floor(Math.random() * 65536),
      flags: dns.RECURSION_DESIRED,
      questions: [{ type: type as dns.RecordType, name: target }],
    });
    const out = await this.#o.forwarder.forward(query, `${target.toLowerCase()}|${type}|IN`, proto);
    if (!out) return [];
    try {
      return dns.decode(out).answers ?? [];
    } catch {
      return [];
    }
  }

  #reply(
    q: Pick<dns.Packet, "id" | "flags" | "questions" | "additionals">,
    rcode: Rcode,
    answers: dns.Answer[],
    additionals: dns.Answer[] = [],
    authorities: dns.Answer[] = [],
    authoritative = false,
    proto: "udp" | "tcp" = "tcp",
  ): Buffer {
    const rd = (q.flags ?? 0) & dns.RECURSION_DESIRED;
    const flags = rd | dns.RECURSION_AVAILABLE | (authoritative ? dns.AUTHORITATIVE_ANSWER : 0) | RCODE[rcode];
    const opt = q.additionals?.find((a) => a.type === "OPT");
    const edns: dns.Answer[] = opt
      ? [
          {
            type: "OPT",
            name: ".",
            udpPayloadSize: 1232,
            extendedRcode: 0,
            ednsVersion: 0,
            flags: 0,
            flag_do: false,
            options: [],
          },
        ]
      : [];
    const packet: dns.Packet = {
      id: q.id ?? 0,
      type: "response",
      flags,
      questions: q.questions ?? [],
      answers,
      authorities,
      additionals: [...additionals, ...edns],
    };
    const out = dns.encode(packet);
    if (proto === "udp") {
      const limit =
        opt && "udpPayloadSize" in opt ? Math.max(UDP_DEFAULT_SIZE, Number(opt.udpPayloadSize)) : UDP_DEFAULT_SIZE;
      if (out.length > limit)
        return dns.encode({
          ...packet,
          flags: flags | dns.TRUNCATED_RESPONSE,
          answers: [],
          authorities: [],
          additionals: edns,
        });
    }
    return out;
  }
}
