import assert from "node:assert/strict";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { listenAlso } from "./listen.js";
import { generateSelfSigned } from "./tls.js";

function get(host: string, port: number, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: "/who", ca, servername: "localhost", agent: false }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("listenAlso: the same TLS server answers on a second address and port, with the real peer address", async () => {
  const { cert, key } = await generateSelfSigned(["localhost", "127.0.0.1", "127.0.0.2"]);
  const srv = createServer({ cert, key }, (req, res) => {
    res.end(`${req.socket.localAddress} from ${req.socket.remoteAddress}`);
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as AddressInfo).port;
  const extra = await listenAlso(srv, "127.0.0.2", port);
  try {
    assert.deepEqual(await get("127.0.0.1", port, cert), { status: 200, body: "127.0.0.1 from 127.0.0.1" });
    const second = await get("127.0.0.2", port, cert);
    assert.equal(second.status, 200);
    assert.match(second.body, /^127\.0\.0\.2 from 127\.0\.0\.1$/);
    // A taken address:port is an error, not a silent second server.
    await assert.rejects(listenAlso(srv, "127.0.0.2", port), /EADDRINUSE/);
  } finally {
    await extra.close();
    srv.closeAllConnections();
    await new Promise<void>((r) => srv.close(() => r()));
  }
  // Closed: the second address refuses.
  await assert.rejects(get("127.0.0.2", port, cert), /ECONNREFUSED/);
});
