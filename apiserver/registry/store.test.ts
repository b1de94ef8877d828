import assert from "node:assert/strict";
import { test } from "node:test";
import { metaTime } from "#pkg/api/time.js";
import { generateNameSuffix } from "./store.js";

test("generateNameSuffix: 5 characters from upstream's alphabet", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const s = generateNameSuffix();
    assert.match(s, /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    seen.add(s);
  }
  assert.ok(seen.size > 190);
});

test("metaTime (the store's timestamps) has second precision and honours an offset", () => {
  const nowRFC3339 = (offsetSeconds = 0) => metaTime(Date.now() + offsetSeconds * 1000);
  assert.match(nowRFC3339(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const diff = Date.parse(nowRFC3339(30)) - Date.parse(nowRFC3339());
  assert.ok(diff >= 29_000 && diff <= 31_000, String(diff));
});
