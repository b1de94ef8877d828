import assert from "node:assert/strict";
import { test } from "node:test";
import { formatAge, humanDuration } from "./duration.js";

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

test("humanDuration follows upstream's buckets", () => {
  const cases: Array<[number, string]> = [
    [-5 * s, "<invalid>"],
    [-1 * s, "0s"],
    [0, "0s"],
    [45 * s, "45s"],
    [119 * s, "119s"],
    [2 * m, "2m"],
    [3 * m + 4 * s, "3m4s"],
    [9 * m + 59 * s, "9m59s"],
    [10 * m + 30 * s, "10m"],
    [179 * m, "179m"],
    [3 * h, "3h"],
    [5 * h + 3 * m, "5h3m"],
    [8 * h + 30 * m, "8h"],
    [47 * h, "47h"],
    [2 * d + 3 * h, "2d3h"],
    [3 * d, "3d"],
    [8 * d + 5 * h, "8d"],
    [400 * d, "400d"],
    [2 * 365 * d + 5 * d, "2y5d"],
    [3 * 365 * d, "3y"],
    [9 * 365 * d + 100 * d, "9y"],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}ms`);
});

test("formatAge", () => {
  const now = new Date("2024-01-02T00:00:00Z");
  assert.equal(formatAge("2024-01-01T23:59:15Z", now), "45s");
  assert.equal(formatAge("2023-12-31T21:00:00Z", now), "27h");
  assert.equal(formatAge(undefined, now), "<unknown>");
  assert.equal(formatAge("garbage", now), "<unknown>");
});
