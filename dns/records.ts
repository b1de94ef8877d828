// The cluster's DNS records, as the Kubernetes DNS specification (kubernetes/dns
// docs/specification.md) defines them and CoreDNS's kubernetes plugin serves them, computed per
// question from what the informers hold (no zone is materialised, so a change is visible at the
// next query):
//   <svc>.<ns>.svc.<zone>              A: the ClusterIP; headless: the ready addresses
//   <host>.<svc>.<ns>.svc.<zone>       A: a headless service's address with that hostname (or dashed IP)
//   _<port>._<proto>.<svc>.<ns>.svc.<zone>  SRV for named ports (targets as above)
//   <svc>.<ns>.svc.<zone>              CNAME: an ExternalName service's name
//   <a-b-c-d>.<ns>.pod.<zone>          A: a.b.c.d ("pods insecure", kubeadm's CoreDNS default)
//   d.c.b.a.in-addr.arpa               PTR: a ClusterIP's service, a headless address's hostname
//   dns-version.<zone>                 TXT: the specification's version
// Names in the zone that match nothing are NXDOMAIN (with the zone's SOA); a name that exists
// without records of the asked type is NODATA. Anything else is not ours (the server forwards it).

import type { Answer } from "dns-packet";
import type { EndpointAddress, Endpoints, Service } from "#pkg/api/types/index.js";

/** The specification version this server implements (its dns-version record). */
export const DNS_SCHEMA_VERSION = "1.1.0";
/** CoreDNS's kubernetes plugin's default TTL. */
export const DEFAULT_TTL = 5;

export type RecordType = "A" | "AAAA" | "SRV" | "PTR" | "CNAME" | "TXT" | "SOA" | "NS" | "ANY";

/** What the records are computed from: the informers' caches. */
export interface ClusterState {
  service(namespace: string, name: string): Service | undefined;
  /** The Endpoints object of a service (same namespace and name). */
  endpoints(namespace: string, name: string): Endpoints | undefined;
  /** Whether any service lives in the namespace (so <ns>.svc.<zone> exists). */
  hasNamespace(namespace: string): boolean;
  /** The service whose ClusterIP this is. */
  serviceByClusterIP(ip: string): Service | undefined;
  /** A headless service's endpoint address with this IP and a hostname. */
  headlessByIP(ip: string): { service: Service; address: EndpointAddress } | undefined;
}

export type Resolution =
  /** Not in the zone (nor a reverse name we know): forward it. */
  | { kind: "forward" }
  | { kind: "answer"; answers: Answer[]; additionals: Answer[] }
  | { kind: "nodata" }
  | { kind: "nxdomain" };

export interface RecordsOptions {
  /** --cluster-domain, e.g. cluster.local. */
  zone: string;
  ttl?: number;
}

const dashedIP = (ip: string) => ip.replaceAll(".", "-");
const isIPv4 = (s: string) =>
  /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(s) && s.split(".").every((o) => Number(o) <= 255);

/** The ready addresses of a service's Endpoints, with the ports of their subsets. */
function readyAddresses(
  ep: Endpoints | undefined,
  svc: Service,
): Array<{ address: EndpointAddress; ports: NonNullable<NonNullable<Endpoints["subsets"]>[number]["ports"]> }> {
  const out: Array<{
    address: EndpointAddress;
    ports: NonNullable<NonNullable<Endpoints["subsets"]>[number]["ports"]>;
  }> = [];
  for (const s of ep?.subsets ?? []) {
    const addrs = [...(s.addresses ?? []), ...(svc.spec?.publishNotReadyAddresses ? (s.notReadyAddresses ?? []) : [])];
    for (const address of addrs) out.push({ address, ports: s.ports ?? [] });
  }
  return out;
}

const isHeadless = (svc: Service) => svc.spec?.clusterIP === "None";

export class ClusterRecords {
  readonly zone: string;
  readonly #ttl: number;

  constructor(
    private readonly state: ClusterState,
    o: RecordsOptions,
  ) {
    this.zone = o.zone.replace(/\.$/, "").toLowerCase();
    this.#ttl = o.ttl ?? DEFAULT_TTL;
  }

  /** The zone's SOA, for the authority section of NXDOMAIN and NODATA answers. */
  soa(): Answer {
    return {
      type: "SOA",
      name: this.zone,
      ttl: this.#ttl,
      class: "IN",
      data: {
        mname: `ns.dns.${this.zone}`,
        rname: `hostmaster.${this.zone}`,
        serial: Math.floor(Date.now() / 1000) >>> 0,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: this.#ttl,
      },
    };
  }

  resolve(qname: string, qtype: RecordType): Resolution {
    const name = qname.replace(/\.$/, "").toLowerCase();
    if (name.endsWith(".in-addr.arpa")) return this.#reverse(name, qtype);
    if (name !== this.zone && !name.endsWith(`.${this.zone}`)) return { kind: "forward" };
    const labels = name === this.zone ? [] : name.slice(0, -(this.zone.length + 1)).split(".");
    const last = labels.at(-1);
    if (labels.length === 0) {
      if (qtype === "SOA" || qtype === "ANY") return this.#answer([this.soa()]);
      return { kind: "nodata" };
    }
    if (labels.length === 1 && last === "dns-version") {
      if (qtype !== "TXT" && qtype !== "ANY") return { kind: "nodata" };
      return this.#answer([{ type: "TXT", name, ttl: this.#ttl, class: "IN", data: [DNS_SCHEMA_VERSION] }]);
    }
    if (last === "svc") return this.#service(name, labels.slice(0, -1), qtype);
    if (last === "pod") return this.#pod(name, labels.slice(0, -1), qtype);
    return { kind: "nxdomain" };
  }

  #answer(answers: Answer[], additionals: Answer[] = []): Resolution {
    return answers.length > 0 ? { kind: "answer", answers, additionals } : { kind: "nodata" };
  }

  #a(name: string, ip: string): Answer {
    return { type: "A", name, ttl: this.#ttl, class: "IN", data: ip };
  }

  /** labels: what precedes "svc.<zone>". */
  #service(name: string, labels: string[], qtype: RecordType): Resolution {
    if (labels.length === 0) return { kind: "nodata" };
    if (labels.length === 1)
      return this.state.hasNamespace(labels[0] as string) ? { kind: "nodata" } : { kind: "nxdomain" };
    const [ns, svcName] = [labels.at(-1) as string, labels.at(-2) as string];
    const svc = this.state.service(ns, svcName);
    if (!svc) return { kind: "nxdomain" };
    const svcFQDN = `${svcName}.${ns}.svc.${this.zone}`;
    const rest = labels.slice(0, -2);
    if (rest.length === 0) return this.#serviceRecords(name, svc, svcFQDN, qtype);
    if (rest.length === 1) return this.#endpointRecord(name, svc, rest[0] as string, qtype);
    if (rest.length === 2 && rest[0]?.startsWith("_") && rest[1]?.startsWith("_"))
      return this.#srv(name, svc, svcFQDN, rest[0].slice(1), rest[1].slice(1), qtype);
    return { kind: "nxdomain" };
  }

  #serviceRecords(name: string, svc: Service, svcFQDN: string, qtype: RecordType): Resolution {
    const spec = svc.spec ?? {};
    if (spec.type === "ExternalName") {
      if (!spec.externalName) return { kind: "nodata" };
      return this.#answer([
        { type: "CNAME", name, ttl: this.#ttl, class: "IN", data: spec.externalName.replace(/\.$/, "") },
      ]);
    }
    const want = (t: RecordType) => qtype === t || qtype === "ANY";
    if (isHeadless(svc)) {
      const addrs = readyAddresses(this.state.endpoints(svc.metadata.namespace ?? "", svc.metadata.name ?? ""), svc);
      if (want("A")) return this.#answer(dedupe(addrs.map((a) => this.#a(name, a.address.ip))));
      if (want("SRV")) return this.#srvAll(name, svc, svcFQDN);
      return { kind: "nodata" };
    }
    const ip = spec.clusterIP;
    if (want("A") && ip && isIPv4(ip)) return this.#answer([this.#a(name, ip)]);
    if (want("SRV")) return this.#srvAll(name, svc, svcFQDN);
    return { kind: "nodata" };
  }

  /** A query for a service's name itself of type SRV: one record per named port. */
  #srvAll(name: string, svc: Service, svcFQDN: string): Resolution {
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    for (const p of svc.spec?.ports ?? []) {
      if (!p.name) continue;
      const r = this.#srv(name, svc, svcFQDN, p.name, (p.protocol ?? "TCP").toLowerCase(), "SRV");
      if (r.kind === "answer") {
        answers.push(...r.answers);
        additionals.push(...r.additionals);
      }
    }
    return this.#answer(answers, dedupe(additionals));
  }

  #endpointRecord(name: string, svc: Service, host: string, qtype: RecordType): Resolution {
    if (!isHeadless(svc)) return { kind: "nxdomain" };
    const addrs = readyAddresses(this.state.endpoints(svc.metadata.namespace ?? "", svc.metadata.name ?? ""), svc);
    const match = addrs.filter((a) => (a.address.hostname ?? dashedIP(a.address.ip)) === host);
    if (match.length === 0) return { kind: "nxdomain" };
    if (qtype !== "A" && qtype !== "ANY") return { kind: "nodata" };
    return this.#answer(dedupe(match.map((a) => this.#a(name, a.address.ip))));
  }

  /** _<port>._<proto>.<svc>.<ns>.svc.<zone> */
  #srv(name: string, svc: Service, svcFQDN: string, port: string, proto: string, qtype: RecordType): Resolution {
    const sp = (svc.spec?.ports ?? []).find((p) => p.name === port && (p.protocol ?? "TCP").toLowerCase() === proto);
    if (!sp) return { kind: "nxdomain" };
    if (qtype !== "SRV" && qtype !== "ANY") return { kind: "nodata" };
    const srv = (target: string, targetPort: number): Answer => ({
      type: "SRV",
      name,
      ttl: this.#ttl,
      class: "IN",
      data: { priority: 0, weight: 100, port: targetPort, target },
    });
    if (!isHeadless(svc)) {
      const ip = svc.spec?.clusterIP;
      return this.#answer([srv(svcFQDN, sp.port)], ip && isIPv4(ip) ? [this.#a(svcFQDN, ip)] : []);
    }
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    for (const a of readyAddresses(this.state.endpoints(svc.metadata.namespace ?? "", svc.metadata.name ?? ""), svc)) {
      const ep = a.ports.find((p) => p.name === port && (p.protocol ?? "TCP").toLowerCase() === proto);
      if (!ep) continue;
      const target = `${a.address.hostname ?? dashedIP(a.address.ip)}.${svcFQDN}`;
      answers.push(srv(target, ep.port));
      additionals.push(this.#a(target, a.address.ip));
    }
    return this.#answer(answers, dedupe(additionals));
  }

  /** <a-b-c-d>.<ns>.pod.<zone> */
  #pod(name: string, labels: string[], qtype: RecordType): Resolution {
    if (labels.length !== 2) return labels.length === 0 ? { kind: "nodata" } : { kind: "nxdomain" };
    const ip = (labels[0] as string).replaceAll("-", ".");
    if (!isIPv4(ip)) return { kind: "nxdomain" };
    if (qtype !== "A" && qtype !== "ANY") return { kind: "nodata" };
    return this.#answer([this.#a(name, ip)]);
  }

  #reverse(name: string, qtype: RecordType): Resolution {
    const octets = name.slice(0, -".in-addr.arpa".length).split(".");
    if (octets.length !== 4) return { kind: "forward" };
    const ip = octets.reverse().join(".");
    if (!isIPv4(ip)) return { kind: "forward" };
    const ptr = (target: string): Resolution =>
      qtype === "PTR" || qtype === "ANY"
        ? this.#answer([{ type: "PTR", name, ttl: this.#ttl, class: "IN", data: target }])
        : { kind: "nodata" };
    const svc = this.state.serviceByClusterIP(ip);
    if (svc) return ptr(`${svc.metadata.name}.${svc.metadata.namespace}.svc.${this.zone}`);
    const headless = this.state.headlessByIP(ip);
    if (headless)
      return ptr(
        `${headless.address.hostname}.${headless.service.metadata.name}.${headless.service.metadata.namespace}.svc.${this.zone}`,
      );
    return { kind: "forward" };
  }
}

function dedupe(answers: Answer[]): Answer[] {
  const seen = new Set<string>();
  return answers.filter((a) => {
    const k = a.type === "A" ? `A ${a.name} ${a.data}` : JSON.stringify(a);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
