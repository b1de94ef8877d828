import assert from "node:assert/strict";
import { test } from "node:test";
import { generateNameSuffix, nowRFC3339 } from "./store.js";

test("generateNameSuffix: 5 characters from upstream's alphabet", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const s = generateNameSuffix();
    assert.match(s, /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    seen.add(s);
  }
  assert.ok(seen.size > 190);
});

test("nowRFC3339 has second precision and honours the offset", () => {
  assert.match(nowRFC3339(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const diff = Date.parse(nowRFC3339(30)) - Date.parse(nowRFC3339());
  assert.ok(diff >= 29_000 && diff <= 31_000, String(diff));
});
