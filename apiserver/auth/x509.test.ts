import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { type CertKey, newCA, newCert } from "#pkg/pki/certs.js";
import { type AuthResponse, UnionAuthenticator } from "./authenticator.js";
import { parseTokenFile } from "./tokens.js";
import { X509Authenticator } from "./x509.js";

// A real TLS server configured as the API server's (tls.ts: the client CA, requestCert, not
// rejectUnauthorized), so the verdicts below are OpenSSL's, as in production.
let ca: CertKey;
let server: Server;
let url: string;
const auth = (a: X509Authenticator) =>
  new UnionAuthenticator([a, parseTokenFile("tok,bob,u1\n").requestAuthenticator()], { anonymous: false });

before(async () => {
  ca = await newCA("kubernetes");
  const serving = await newCert(ca, { commonName: "kube-apiserver", usages: ["serverAuth"], altNames: ["127.0.0.1"] });
  const x509 = new X509Authenticator(ca.cert);
  const union = auth(x509);
  server = createServer(
    { cert: serving.cert, key: serving.key, ca: x509.caPem, requestCert: true, rejectUnauthorized: false },
    async (req, res) => {
      const answer: AuthResponse = await union.authenticateRequest({ headers: req.headers, socket: req.socket });
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(answer ?? null));
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

async function ask(client?: CertKey, headers: Record<string, string> = {}): Promise<AuthResponse | null> {
  const { request } = await import("node:https");
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca: ca.cert, ...(client ? { cert: client.cert, key: client.key } : {}), headers, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          body += d;
        });
        res.on("end", () => resolve(JSON.parse(body) as AuthResponse | null));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

test("a client certificate signed by the client CA: CN is the user, O the groups, plus system:authenticated", async () => {
  const c = await newCert(ca, {
    commonName: "system:node:node-1",
    organizations: ["system:nodes", "extra"],
    usages: ["clientAuth"],
  });
  assert.deepEqual(await ask(c), {
    user: { name: "system:node:node-1", uid: "", groups: ["system:nodes", "extra", "system:authenticated"] },
  });
});

test("no certificate: the next authenticator (a token), else nobody", async () => {
  assert.deepEqual(await ask(undefined, { authorization: "Bearer tok" }), {
    user: { name: "bob", uid: "u1", groups: ["system:authenticated"] },
  });
  assert.equal(await ask(), null);
  assert.deepEqual(await ask(undefined, { authorization: "Bearer nope" }), { error: "invalid bearer token" });
});

test("a certificate from another CA is an error naming the certificate, as upstream's", async () => {
  const other = await newCA("other");
  const c = await newCert(other, { commonName: "mallory", organizations: ["system:masters"], usages: ["clientAuth"] });
  const r = await ask(c);
  assert.ok(r && "error" in r, JSON.stringify(r));
  assert.match(
    r.error,
    /^verifying certificate SN=\d+, SKID=, AKID=([0-9A-F]{2}:)+[0-9A-F]{2} failed: x509: certificate signed by unknown authority$/,
  );
  // A valid token on the same request still authenticates (upstream's union).
  assert.deepEqual(await ask(c, { authorization: "Bearer tok" }), {
    user: { name: "bob", uid: "u1", groups: ["system:authenticated"] },
  });
});

test("an expired certificate, or one not yet valid, is refused", async () => {
  const expired = await newCert(ca, {
    commonName: "old",
    usages: ["clientAuth"],
    now: new Date(Date.now() - 2 * 365 * 24 * 3_600_000),
  });
  const r = await ask(expired);
  assert.ok(r && "error" in r);
  assert.match(r.error, /failed: x509: certificate has expired or is not yet valid$/);
  const future = await newCert(ca, {
    commonName: "new",
    usages: ["clientAuth"],
    now: new Date(Date.now() + 86_400_000),
  });
  const f = await ask(future);
  assert.ok(f && "error" in f);
  assert.match(f.error, /x509: certificate has expired or is not yet valid$/);
});

test("a serving-only certificate cannot authenticate a client; a certificate without CN authenticates nobody", async () => {
  const serving = await newCert(ca, { commonName: "kube-apiserver", usages: ["serverAuth"] });
  const r = await ask(serving);
  assert.ok(r && "error" in r);
  assert.match(r.error, /x509: certificate specifies an incompatible key usage$/);
  const noCN = await newCert(ca, { commonName: "", organizations: ["system:masters"], usages: ["clientAuth"] });
  assert.equal(await ask(noCN), null);
});
