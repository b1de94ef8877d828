import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { HealthServer, healthHandler } from "./health-server.js";
import { Counter, newRegistry } from "./metrics.js";

test("HealthServer: /healthz, /readyz by their checks, /metrics from the registry", async (t) => {
  const registry = newRegistry({ processMetrics: false });
  new Counter({ name: "test_things_total", help: "Things.", registers: [registry] }).inc(3);
  let synced = false;
  const server = new HealthServer({ registry, readyz: { informers: () => synced || "not synced" } });
  const port = await server.listen(0, "127.0.0.1");
  t.after(() => server.close());
  const get = async (path: string) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return { code: r.status, body: await r.text() };
  };
  assert.deepEqual(await get("/healthz"), { code: 200, body: "ok" });
  assert.deepEqual(await get("/livez"), { code: 200, body: "ok" });
  assert.deepEqual(await get("/readyz"), { code: 503, body: "not ready: informers: not synced" });
  synced = true;
  assert.deepEqual(await get("/readyz"), { code: 200, body: "ok" });
  const metrics = await get("/metrics");
  assert.equal(metrics.code, 200);
  assert.match(metrics.body, /^test_things_total 3$/m);
  assert.equal((await get("/nope")).code, 404);
});

test("healthHandler: the health endpoints inside a component's own server, false for the rest", async (t) => {
  const registry = newRegistry({ processMetrics: false });
  let synced = false;
  const health = healthHandler({ registry, readyz: { pods: () => synced || "not synced" } });
  const server = createServer((req, res) => {
    if (health(req, res)) return;
    res.writeHead(418).end("mine");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  const get = async (path: string, method = "GET") => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
    return { code: r.status, body: await r.text() };
  };
  assert.deepEqual(await get("/healthz"), { code: 200, body: "ok" });
  assert.deepEqual(await get("/readyz"), { code: 503, body: "not ready: pods: not synced" });
  synced = true;
  assert.deepEqual(await get("/readyz?verbose"), { code: 200, body: "ok" });
  assert.equal((await get("/metrics")).code, 200);
  assert.deepEqual(await get("/stats/summary"), { code: 418, body: "mine" });
  assert.deepEqual(await get("/healthz", "POST"), { code: 418, body: "mine" });
});
