import assert from "node:assert/strict";
import { test } from "node:test";
import { ipOutOfRange, ipToNumber, numberToIp, parseCidr } from "./allocator.js";

test("IPv4 conversions", () => {
  assert.equal(ipToNumber("10.96.0.1"), (10 << 24) + (96 << 16) + 1);
  assert.equal(numberToIp(ipToNumber("255.255.255.255") as number), "255.255.255.255");
  for (const bad of ["1.2.3", "1.2.3.256", "a.b.c.d", "1.2.3.4.5", ""]) assert.equal(ipToNumber(bad), undefined, bad);
});

test("parseCidr normalises the network address and rejects nonsense", () => {
  const c = parseCidr("10.96.0.0/12");
  assert.equal(c.size, 2 ** 20);
  assert.equal(numberToIp(c.base), "10.96.0.0");
  assert.equal(parseCidr("10.100.0.77/24").text, "10.100.0.0/24");
  for (const bad of ["10.0.0.0", "10.0.0.0/33", "10.0.0.0/31", "x/24", "10.0.0.0/abc"])
    assert.throws(() => parseCidr(bad), /invalid service cluster IP range/, bad);
});

test("ipOutOfRange excludes network and broadcast addresses", () => {
  const c = parseCidr("10.100.0.0/24");
  assert.equal(ipOutOfRange(c, "10.100.0.0"), true);
  assert.equal(ipOutOfRange(c, "10.100.0.255"), true);
  assert.equal(ipOutOfRange(c, "10.100.1.5"), true);
  assert.equal(ipOutOfRange(c, "not-an-ip"), true);
  assert.equal(ipOutOfRange(c, "10.100.0.1"), false);
  assert.equal(ipOutOfRange(c, "10.100.0.254"), false);
});
