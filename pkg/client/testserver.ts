// A tiny programmable HTTP(S) server for the client library's unit tests: each test installs
// a handler and inspects the requests it received. Not used by production code.

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { TLSSocket } from "node:tls";

export interface RecordedRequest {
  method: string;
  url: URL;
  headers: IncomingMessage["headers"];
  body: string;
  /** The subject CN of the client certificate the connection presented (TLS servers with a ca). */
  peerCommonName?: string;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface TestServer {
  url: string;
  requests: RecordedRequest[];
  /** Exceptions thrown by handlers (assertions inside handlers land here; each is answered 500). */
  errors: unknown[];
  handle(h: Handler): void;
  close(): Promise<void>;
}

/** tls.ca: ask for a client certificate and refuse connections without one it signed. */
export async function startTestServer(
  o: { tls?: { key: string; cert: string; ca?: string } } = {},
): Promise<TestServer> {
  let handler: Handler = (_req, res) => {
    res.statusCode = 404;
    res.end();
  };
  const requests: RecordedRequest[] = [];
  const errors: unknown[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const rec: RecordedRequest = {
        method: req.method ?? "GET",
        url: new URL(req.url ?? "/", "http://x"),
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      const peer = req.socket instanceof TLSSocket ? req.socket.getPeerCertificate() : undefined;
      if (peer?.subject?.CN) rec.peerCommonName = String(peer.subject.CN);
      requests.push(rec);
      Promise.resolve()
        .then(() => handler(rec, res))
        .catch((err: unknown) => {
          errors.push(err);
          res.statusCode = 500;
          res.end(String(err));
        });
    });
  };
  const tls = o.tls?.ca ? { ...o.tls, requestCert: true, rejectUnauthorized: true } : o.tls;
  const server: Server = tls ? createHttpsServer(tls, onRequest) : createHttpServer(onRequest);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${o.tls ? "https" : "http"}://127.0.0.1:${port}`,
    requests,
    errors,
    handle(h) {
      handler = h;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  res.statusCode = code;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(body));
}
