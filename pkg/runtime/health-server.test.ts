import assert from "node:assert/strict";
import { test } from "node:test";
import { HealthServer } from "./health-server.js";
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
