import assert from "node:assert/strict";
import { test } from "node:test";
import { expectedExecStreams } from "./spdy-upgrade.js";

test("expectedExecStreams: the streams client-go opens for the exec's query", () => {
  const of = (q: string) => [...expectedExecStreams(new URLSearchParams(q))].sort();
  assert.deepEqual(of("command=ls&stdout=true&stderr=true"), ["error", "stderr", "stdout"]);
  assert.deepEqual(of("command=cat&stdin=true&stdout=true&stderr=true"), ["error", "stderr", "stdin", "stdout"]);
  // A terminal: no stderr stream, a resize stream; Go's ParseBool spellings.
  assert.deepEqual(of("command=sh&stdin=1&stdout=True&stderr=true&tty=t"), ["error", "resize", "stdin", "stdout"]);
  assert.deepEqual(of("command=ls&stdout=false"), ["error"]);
});
