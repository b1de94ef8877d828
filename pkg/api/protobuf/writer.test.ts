import assert from "node:assert/strict";
import { test } from "node:test";
import protobuf from "protobufjs/minimal.js";
import { FastWriter } from "./writer.js";

// The same calls on protobufjs's Writer, which the encoder used before, give the same bytes.
test("FastWriter writes what protobufjs's Writer writes", () => {
  const long = "x".repeat(300);
  const script = (w: {
    uint32(v: number): unknown;
    int32(v: number): unknown;
    int64(v: number): unknown;
    bool(v: boolean): unknown;
    double(v: number): unknown;
    float(v: number): unknown;
    string(v: string): unknown;
    bytes(v: Uint8Array): unknown;
    fork(): unknown;
    ldelim(): unknown;
  }) => {
    w.uint32(8);
    w.int64(0);
    w.int64(127);
    w.int64(128);
    w.int64(3_000_000_000);
    w.int64(2 ** 40 + 5);
    w.int64(-1);
    w.int32(-5);
    w.int32(2_000_001_000);
    w.bool(true);
    w.bool(false);
    w.double(1.5);
    w.float(0.25);
    w.string("");
    w.string("ascii");
    w.string("ünïcödé ✓ 😀");
    w.string(long);
    w.bytes(Buffer.from([1, 2, 3]));
    w.uint32(18);
    w.fork();
    w.string("short nested");
    w.ldelim();
    w.uint32(26);
    w.fork();
    w.string(long);
    w.uint32(34);
    w.fork();
    w.string(long.repeat(200)); // 60,000 bytes: a three-byte length inside a two-byte one
    w.ldelim();
    w.ldelim();
    w.uint32(42);
    w.fork();
    w.ldelim();
  };
  const ours = new FastWriter(16);
  script(ours);
  const theirs = protobuf.Writer.create();
  script(theirs);
  assert.deepEqual(Buffer.from(ours.finish()), Buffer.from(theirs.finish()));
});
