import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";
import { FakeClock } from "../runtime/clock.js";
import { newRegistry, type Registry } from "../runtime/metrics.js";
import { PrometheusWorkQueueMetricsProvider, setWorkQueueMetricsProvider } from "./metrics.js";
import { WorkQueue } from "./queue.js";

async function value(registry: Registry, series: string): Promise<number> {
  const line = (await registry.metrics()).split("\n").find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`${series} missing`);
  return Number(line.split(" ").pop());
}

describe("workqueue metrics", () => {
  afterEach(() => setWorkQueueMetricsProvider(undefined));

  test("depth, adds, retries and the queue/work durations of a named queue", async () => {
    const registry = newRegistry({ processMetrics: false });
    const clock = new FakeClock();
    const q = new WorkQueue({ name: "rs", clock, metricsProvider: new PrometheusWorkQueueMetricsProvider(registry) });
    assert.equal(await value(registry, 'workqueue_depth{name="rs"}'), 0);
    q.add("a");
    q.add("b");
    q.add("a");
    assert.equal(await value(registry, 'workqueue_depth{name="rs"}'), 2);
    assert.equal(await value(registry, 'workqueue_adds_total{name="rs"}'), 2, "a de-duplicated add is not counted");
    clock.step(2_000);
    const key = await q.get();
    assert.equal(key, "a");
    assert.equal(await value(registry, 'workqueue_depth{name="rs"}'), 1);
    assert.equal(await value(registry, 'workqueue_queue_duration_seconds_count{name="rs"}'), 1);
    assert.equal(await value(registry, 'workqueue_queue_duration_seconds_sum{name="rs"}'), 2);
    clock.step(500);
    q.addRateLimited("a");
    q.done("a");
    assert.equal(await value(registry, 'workqueue_work_duration_seconds_sum{name="rs"}'), 0.5);
    assert.equal(await value(registry, 'workqueue_retries_total{name="rs"}'), 1);
    q.shutDown();
    q.addRateLimited("b");
    assert.equal(await value(registry, 'workqueue_retries_total{name="rs"}'), 1, "not after shutdown");
  });

  test("unfinished work and the longest running processor, read from the keys in progress", async () => {
    const registry = newRegistry({ processMetrics: false });
    const clock = new FakeClock();
    const q = new WorkQueue({
      name: "w",
      clock,
      metricsProvider: new PrometheusWorkQueueMetricsProvider(registry, clock),
    });
    assert.equal(await value(registry, 'workqueue_unfinished_work_seconds{name="w"}'), 0);
    q.add("a");
    q.add("b");
    await q.get();
    clock.step(3_000);
    await q.get();
    clock.step(1_000);
    assert.equal(await value(registry, 'workqueue_unfinished_work_seconds{name="w"}'), 5, "4 s of a + 1 s of b");
    assert.equal(await value(registry, 'workqueue_longest_running_processor_seconds{name="w"}'), 4);
    q.done("a");
    q.done("b");
    assert.equal(await value(registry, 'workqueue_unfinished_work_seconds{name="w"}'), 0);
    assert.equal(await value(registry, 'workqueue_longest_running_processor_seconds{name="w"}'), 0);
  });

  test("a re-add while processing counts once in depth until handed out again", async () => {
    const registry = newRegistry({ processMetrics: false });
    const q = new WorkQueue({
      name: "q",
      clock: new FakeClock(),
      metricsProvider: new PrometheusWorkQueueMetricsProvider(registry),
    });
    q.add("a");
    await q.get();
    q.add("a");
    assert.equal(await value(registry, 'workqueue_depth{name="q"}'), 1);
    q.done("a");
    await q.get();
    assert.equal(await value(registry, 'workqueue_depth{name="q"}'), 0);
    assert.equal(await value(registry, 'workqueue_adds_total{name="q"}'), 2);
  });

  test("the process-wide provider serves named queues only; several queues share one registry", async () => {
    const registry = newRegistry({ processMetrics: false });
    setWorkQueueMetricsProvider(new PrometheusWorkQueueMetricsProvider(registry));
    new WorkQueue({ name: "one", clock: new FakeClock() }).add("x");
    new WorkQueue({ name: "two", clock: new FakeClock() });
    new WorkQueue({ clock: new FakeClock() }).add("y");
    assert.equal(await value(registry, 'workqueue_depth{name="one"}'), 1);
    assert.equal(await value(registry, 'workqueue_depth{name="two"}'), 0);
    assert.ok(!(await registry.metrics()).includes('name=""'), "an unnamed queue has no series");
  });
});
