import assert from "node:assert/strict";
import { test } from "node:test";
import { waitForCacheSync } from "./wait-for-sync.js";

const synced = { waitForSync: async () => {} };
const failing = (err: Error) => ({ waitForSync: async () => Promise.reject(err) });

test("waitForCacheSync: true once all synced, false when the wait fails on abort, other failures thrown", async () => {
  assert.equal(await waitForCacheSync(new AbortController().signal, synced, synced), true);
  const aborted = new AbortController();
  aborted.abort();
  assert.equal(await waitForCacheSync(aborted.signal, synced, failing(new Error("aborted before sync"))), false);
  await assert.rejects(
    waitForCacheSync(new AbortController().signal, synced, failing(new Error("stopped before sync"))),
    /stopped before sync/,
  );
});
