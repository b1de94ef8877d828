import assert from "node:assert/strict";
import { test } from "node:test";
import { formatDuration, parseDuration } from "./duration.js";

test("parseDuration: Go's grammar", () => {
  assert.equal(parseDuration("5m"), 300_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("-2m"), -120_000);
  assert.equal(parseDuration("1m30s500ms"), 90_500);
  assert.equal(parseDuration("1000us"), 1);
  assert.equal(parseDuration("0"), 0);
});

test("parseDuration: a bare number is seconds", () => {
  assert.equal(parseDuration("30"), 30_000);
  assert.equal(parseDuration("0.5"), 500);
});

test("parseDuration: rejects what Go rejects", () => {
  for (const bad of ["", "5 minutes", "1d", "m", "1h-5m", "ms5", "1.2.3s"]) {
    assert.throws(() => parseDuration(bad), /time: invalid duration/, bad);
  }
});

test("formatDuration: Go's Duration.String", () => {
  assert.equal(formatDuration(0), "0s");
  assert.equal(formatDuration(500), "500ms");
  assert.equal(formatDuration(1500), "1.5s");
  assert.equal(formatDuration(5_400_000), "1h30m0s");
  assert.equal(formatDuration(90_000), "1m30s");
  assert.equal(formatDuration(-1000), "-1s");
});
