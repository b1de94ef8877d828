// The DNS suite's floor (bench/dns.ts): a UDP server that decodes each query and answers it with
// one fixed A record through dns-packet, nothing else: what any Node DNS server on this machine
// pays per query (a datagram in and out, one decode, one encode). Prints its port, then serves
// until killed.

import { createSocket } from "node:dgram";
import * as dns from "dns-packet";

const sock = createSocket("udp4");
sock.on("message", (m, r) => {
  const q = dns.decode(m);
  const question = q.questions?.[0];
  sock.send(
    dns.encode({
      type: "response",
      id: q.id ?? 0,
      flags: dns.AUTHORITATIVE_ANSWER,
      questions: q.questions ?? [],
      answers: question ? [{ type: "A", name: question.name, ttl: 5, data: "10.96.0.10" }] : [],
    }),
    r.port,
    r.address,
  );
});
sock.bind(0, "127.0.0.1", () => {
  process.stdout.write(`${sock.address().port}\n`);
});
