import assert from "node:assert/strict";
import { test } from "node:test";
import { metaTime, microTime } from "./time.js";

test("metaTime: whole seconds, UTC, Z", () => {
  assert.equal(metaTime(Date.parse("2026-01-02T03:04:05.999Z")), "2026-01-02T03:04:05Z");
  assert.equal(metaTime(new Date("2026-01-02T03:04:05Z")), "2026-01-02T03:04:05Z");
  assert.match(metaTime(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test("microTime: six fractional digits", () => {
  assert.equal(microTime(Date.parse("2026-01-02T03:04:05.123Z")), "2026-01-02T03:04:05.123000Z");
});

test("microTime has microsecond precision", () => {
  assert.equal(microTime(Date.parse("2026-01-02T03:04:05.678Z")), "2026-01-02T03:04:05.678000Z");
});
