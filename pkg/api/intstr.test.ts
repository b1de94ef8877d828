import assert from "node:assert/strict";
import { test } from "node:test";
import { intOrStringText, scaledValueFromIntOrPercent } from "./intstr.js";

test("scaledValueFromIntOrPercent: ints as they are, percentages rounded as asked", () => {
  assert.equal(scaledValueFromIntOrPercent(3, 10, true), 3);
  assert.equal(scaledValueFromIntOrPercent("50%", 3, true), 2);
  assert.equal(scaledValueFromIntOrPercent("50%", 3, false), 1);
  assert.equal(scaledValueFromIntOrPercent("25%", 10, true), 3);
  assert.equal(scaledValueFromIntOrPercent("25%", 10, false), 2);
  assert.equal(scaledValueFromIntOrPercent("100%", 7, true), 7);
  assert.equal(scaledValueFromIntOrPercent("0%", 7, true), 0);
  assert.equal(scaledValueFromIntOrPercent("10%", 0, true), 0);
});

test("scaledValueFromIntOrPercent: upstream's errors", () => {
  assert.throws(() => scaledValueFromIntOrPercent("5", 10, true), /string is not a percentage/);
  assert.throws(() => scaledValueFromIntOrPercent("x%", 10, true), /invalid value "x%"/);
  assert.throws(() => scaledValueFromIntOrPercent(undefined, 10, true), /nil value for IntOrString/);
});

test("intOrStringText prints as IntOrString.String()", () => {
  assert.equal(intOrStringText(1), "1");
  assert.equal(intOrStringText("50%"), "50%");
});
