// x509 client-certificate authentication against a real API server (--client-ca-file: the
// harness's cluster CA), driven by the real kubectl with client-certificate kubeconfigs: a
// certificate the client CA signed gets in, one from another CA or an expired one gets kubectl's
// "must be logged in" (401), and, under --authorization-mode=AlwaysAllow (given explicitly: it is
// what this part tests), a request without credentials is refused (anonymous stays off). In the
// default mode (Node,RBAC): `kubectl auth whoami` shows the certificate's CN and O, RBAC denies on
// that user, and a request without credentials is system:anonymous.

import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { NAMESPACES } from "#pkg/api/resources.js";
import { ApiClient } from "#pkg/client/client.js";
import { writeKubeconfig } from "#pkg/client/kubeconfig.js";
import { type CertKey, newCA, newCert } from "#pkg/pki/certs.js";
import { readCA } from "#pkg/pki/cluster.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";
import { type Kubectl, kubectlFor } from "../harness/kubectl.js";
import { closeRawAgents, raw } from "../harness/raw-http.js";

describe("x509 client certificates", () => {
  let dir: string;
  let ca: CertKey;
  let srv: TestApiServer;
  const kubectls: Kubectl[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "authn-x509-"));
    // The harness gives the server a cluster PKI: --client-ca-file is its CA. AlwaysAllow: any
    // certificate the CA signed may do anything, and anonymous requests are refused.
    srv = await startApiServer({ extraArgs: ["--authorization-mode=AlwaysAllow"] });
    ca = readCA(srv.pki);
  });
  after(async () => {
    for (const k of kubectls) k.close();
    await closeRawAgents();
    await srv?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** kubectl with a kubeconfig holding only this client certificate (no token). */
  const kubectlWith = (name: string, clientCert: CertKey): Kubectl => {
    const path = join(dir, `${name}.conf`);
    writeKubeconfig(path, { server: srv.url, caPem: srv.caPem, clientCert, name });
    const k = kubectlFor(path);
    kubectls.push(k);
    return k;
  };

  test("kubectl with a certificate the client CA signed reads and writes", async () => {
    const k = kubectlFor(await srv.kubeconfigFor({ name: "jane", groups: ["dev"] }));
    kubectls.push(k);
    const api = JSON.parse(await k.ok(["get", "--raw", "/api"])) as { kind: string; versions: string[] };
    assert.equal(api.kind, "APIVersions");
    assert.deepEqual(api.versions, ["v1"]);
    assert.match(
      await k.ok(["create", "configmap", "from-jane", "--from-literal=a=b"]),
      /configmap\/from-jane created/,
    );
    assert.match(await k.ok(["get", "configmap", "from-jane", "-o", "name"]), /^configmap\/from-jane$/m);
  });

  test("a certificate from another CA, or an expired one, is 401 for kubectl", async () => {
    // Named as ours: kubectl only sends a certificate whose issuer the server asks for.
    const other = await newCA("kubernetes");
    const mallory = await newCert(other, {
      commonName: "mallory",
      organizations: ["system:masters"],
      usages: ["clientAuth"],
    });
    const expired = await newCert(ca, {
      commonName: "old",
      usages: ["clientAuth"],
      now: new Date(Date.now() - 2 * 365 * 24 * 3_600_000),
    });
    for (const [name, cert] of [
      ["mallory", mallory],
      ["expired", expired],
    ] as const) {
      const r = await kubectlWith(name, cert).run(["get", "--raw", "/api"]);
      assert.equal(r.code, 1, `${name}: ${r.stdout}`);
      assert.match(r.stderr, /error: You must be logged in to the server \(Unauthorized\)/, name);
    }
  });

  test("the ApiClient presents the certificate of a kubeconfig; no credentials is 401 except the open paths", async () => {
    const bot = await newCert(ca, { commonName: "bot", usages: ["clientAuth"] });
    const client = new ApiClient({ server: srv.url, caPem: srv.caPem, certPem: bot.cert, keyPem: bot.key });
    try {
      assert.equal((await client.serverVersion()).major, "1");
      const ns = await client.list(NAMESPACES, undefined);
      assert.ok(ns.items.some((n) => n.metadata.name === "default"));
    } finally {
      await client.close();
    }
    const anonymous = await raw(srv, "GET", "/api", { token: null });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.json.reason, "Unauthorized");
    assert.equal((await raw(srv, "GET", "/healthz", { token: null })).status, 200);
    // The token file still authenticates beside the client CA.
    assert.equal((await raw(srv, "GET", "/api")).status, 200);
  });
});

describe("x509 identities in the default authorization mode (Node,RBAC), and anonymous requests", () => {
  let srv: TestApiServer;
  const kubectls: Kubectl[] = [];
  before(async () => {
    srv = await startApiServer();
  });
  after(async () => {
    for (const k of kubectls) k.close();
    await closeRawAgents();
    await srv?.stop();
  });
  const as = async (name: string, groups: string[]): Promise<Kubectl> => {
    const k = kubectlFor(await srv.kubeconfigFor({ name, groups }));
    kubectls.push(k);
    return k;
  };

  test("kubectl auth whoami shows the certificate's CN and O, and RBAC decides on that user", async () => {
    const node = await as("system:node:node-1", ["system:nodes"]);
    const who = (await node.ok(["auth", "whoami"])).trim().split("\n");
    assert.match(who[1] ?? "", /^Username\s+system:node:node-1$/);
    assert.match(who.find((l) => l.startsWith("Groups")) ?? "", /^Groups\s+\[system:nodes system:authenticated\]$/);

    const jane = await as("jane", ["dev"]);
    const denied = await jane.run(["get", "pods", "-n", "default"]);
    assert.equal(denied.code, 1);
    assert.match(
      denied.stderr,
      /Error from server \(Forbidden\): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"/,
    );
  });

  test("with an authorizer other than AlwaysAllow, a request without credentials is system:anonymous", async () => {
    // The bootstrap policy lets anonymous reach the health and version endpoints only.
    assert.equal((await raw(srv, "GET", "/version", { token: null })).status, 200);
    const api = await raw(srv, "GET", "/api", { token: null });
    assert.equal(api.status, 403);
    assert.match(api.json.message, /User "system:anonymous" cannot get path "\/api"/);
    // A bad credential is still 401, never anonymous.
    assert.equal((await raw(srv, "GET", "/api", { token: "not-a-token" })).status, 401);
  });
});
