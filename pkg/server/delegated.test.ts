import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Agent, request } from "undici";
import { type CertKey, newCA, newCert } from "../pki/certs.js";
import { componentCommand } from "../runtime/flags.js";
import { silentLogger } from "../runtime/log.js";
import { Counter, newRegistry } from "../runtime/metrics.js";
import {
  addDelegatedServingFlags,
  DelegatedServer,
  type DelegatedServingFlags,
  type DelegationClient,
} from "./delegated.js";

// A secure port as the scheduler's, against a fake API server: token "mon" is a user in
// system:monitoring (allowed /metrics), "dev" a user who is not, anything else invalid.
const USERS: Record<string, { username: string; groups: string[] }> = {
  mon: { username: "prometheus", groups: ["system:monitoring", "system:authenticated"] },
  dev: { username: "dev", groups: ["system:authenticated"] },
};
const reviews: string[] = [];
const fakeApi: DelegationClient = {
  async create(r: { kind: string }, _ns: undefined, obj: { spec?: Record<string, unknown> }) {
    // biome-ignore lint/suspicious/noExplicitAny: the fake answers both review kinds
    const o = obj as any;
    reviews.push(r.kind);
    if (r.kind === "TokenReview") {
      const u = USERS[o.spec.token as string];
      return {
        ...o,
        status: u ? { authenticated: true, user: u } : { authenticated: false, error: "invalid bearer token" },
      };
    }
    const groups = (o.spec.groups ?? []) as string[];
    return { ...o, status: { allowed: groups.includes("system:monitoring") } };
  },
} as unknown as DelegationClient;

let ca: CertKey;
let dir: string;
let server: DelegatedServer;
let port: number;
let agent: Agent;

before(async () => {
  ca = await newCA("kubernetes");
  dir = mkdtempSync(join(tmpdir(), "kubeling-delegated-"));
  writeFileSync(join(dir, "ca.crt"), ca.cert);
  const cmd = addDelegatedServingFlags(componentCommand("x", "x", "KUBELING_TEST_X_"), { port: 10259 });
  const flags = cmd
    .parse(["node", "x", "--bind-address=127.0.0.1", `--client-ca-file=${join(dir, "ca.crt")}`])
    .opts<DelegatedServingFlags>();
  assert.deepEqual(flags.authorizationAlwaysAllowPaths, ["/healthz", "/readyz", "/livez"]);
  assert.equal(flags.authenticationTokenWebhookCacheTtl, 10_000);
  const registry = newRegistry({ processMetrics: false });
  new Counter({ name: "test_things_total", help: "Things.", registers: [registry] }).inc(2);
  server = await DelegatedServer.create({
    flags,
    client: fakeApi,
    clientFor: () => {
      throw new Error("no other kubeconfig");
    },
    pairName: "kube-test",
    health: { registry },
    log: silentLogger,
  });
  port = await server.listen(0, "127.0.0.1");
  agent = new Agent({ connect: { rejectUnauthorized: false } });
});

after(async () => {
  await agent?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function get(path: string, o: { token?: string; client?: CertKey } = {}) {
  const dispatcher = o.client
    ? new Agent({ connect: { rejectUnauthorized: false, cert: o.client.cert, key: o.client.key } })
    : agent;
  try {
    const res = await request(`https://127.0.0.1:${port}${path}`, {
      dispatcher,
      headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
    });
    return { status: res.statusCode, body: await res.body.text() };
  } finally {
    if (dispatcher !== agent) await dispatcher.close();
  }
}

test("the secure port: /healthz open to anyone, /metrics only to a user allowed get on it", async () => {
  assert.deepEqual(await get("/healthz"), { status: 200, body: "ok" });
  assert.equal((await get("/readyz")).status, 200);
  const anon = await get("/metrics");
  assert.equal(anon.status, 403);
  assert.deepEqual(JSON.parse(anon.body), {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message: 'forbidden: User "system:anonymous" cannot get path "/metrics"',
    reason: "Forbidden",
    code: 403,
  });
  const dev = await get("/metrics", { token: "dev" });
  assert.equal(dev.status, 403);
  assert.match(JSON.parse(dev.body).message, /User "dev" cannot get path "\/metrics"/);
  const bad = await get("/metrics", { token: "nope" });
  assert.equal(bad.status, 401);
  assert.equal(JSON.parse(bad.body).message, "Unauthorized");
  // A bad token is a 401 on the open paths too: authentication comes first.
  assert.equal((await get("/healthz", { token: "nope" })).status, 401);
  const mon = await get("/metrics", { token: "mon" });
  assert.equal(mon.status, 200);
  assert.match(mon.body, /^test_things_total 2$/m);
  assert.equal((await get("/nothing", { token: "mon" })).status, 404);
});

test("the secure port: client certificates of --client-ca-file authenticate; system:masters needs no review", async () => {
  const monitor = await newCert(ca, {
    commonName: "scraper",
    organizations: ["system:monitoring"],
    usages: ["clientAuth"],
  });
  assert.equal((await get("/metrics", { client: monitor })).status, 200);
  const admin = await newCert(ca, { commonName: "admin", organizations: ["system:masters"], usages: ["clientAuth"] });
  const before = reviews.length;
  assert.equal((await get("/metrics", { client: admin })).status, 200);
  assert.equal(reviews.length, before, "no review for system:masters");
  // A certificate of another CA is refused (401), not anonymous.
  const other = await newCert(await newCA("other"), { commonName: "x", usages: ["clientAuth"] });
  assert.equal((await get("/healthz", { client: other })).status, 401);
});
