// resource.Quantity: "100m", "0.5", "128Mi", "1Gi", "1e3", "2k". Parsed exactly (BigInt nano-units,
// rounded up like upstream) so that canonical formatting never shows float noise.

import { badRequest, type StatusError } from "./errors.js";

export type QuantityFormat = "DecimalSI" | "BinarySI" | "DecimalExponent";

/** Upstream's message for a string that is not a quantity at all (ErrFormatWrong). */
export const QUANTITY_FORMAT_MESSAGE =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/** Upstream's message for a number with a suffix it does not know, e.g. "1K" (ErrSuffix). */
export const QUANTITY_SUFFIX_MESSAGE = "unable to parse quantity's suffix";

const SHAPE = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const NUMBER = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;

const BINARY: Record<string, number> = { Ki: 1, Mi: 2, Gi: 3, Ti: 4, Pi: 5, Ei: 6 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const DECIMAL_SUFFIX: Record<number, string> = Object.fromEntries(Object.entries(DECIMAL).map(([s, e]) => [e, s]));
const BINARY_SUFFIX: Record<number, string> = Object.fromEntries(Object.entries(BINARY).map(([s, e]) => [e, s]));

const NANO = 1_000_000_000n;

export interface ParsedQuantity {
  /** The value in nano-units (1 = 1e-9 of a base unit), rounded up as upstream does. */
  nanos: bigint;
  format: QuantityFormat;
}

function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a > 0n ? q + 1n : q;
}

/** Parse exactly; throws StatusError 400 with upstream's messages. */
export function parseQuantityExact(input: string | number): ParsedQuantity {
  if (typeof input === "number") {
    if (!Number.isFinite(input)) throw quantityError(String(input), QUANTITY_FORMAT_MESSAGE);
    input = numberToPlainString(input);
  }
  const s = input.trim();
  const m = SHAPE.exec(s);
  if (!m || s.length === 0) throw quantityError(input, QUANTITY_FORMAT_MESSAGE);
  const num = m[1] ?? "";
  const suffix = m[2] ?? "";
  if (!NUMBER.test(num)) throw quantityError(input, QUANTITY_FORMAT_MESSAGE);

  let format: QuantityFormat;
  let base = 10n;
  let exp: number;
  if (suffix in BINARY) {
    format = "BinarySI";
    base = 1024n;
    exp = BINARY[suffix] ?? 0;
  } else if (suffix in DECIMAL) {
    format = "DecimalSI";
    exp = DECIMAL[suffix] ?? 0;
  } else if (/^[eE][+-]?[0-9]+$/.test(suffix)) {
    format = "DecimalExponent";
    exp = Number(suffix.slice(1));
    if (Math.abs(exp) > 100) throw quantityError(input, QUANTITY_SUFFIX_MESSAGE);
  } else {
    throw quantityError(input, QUANTITY_SUFFIX_MESSAGE);
  }

  const negative = num.startsWith("-");
  const unsigned = num.replace(/^[+-]/, "");
  const [intPart = "", fracPart = ""] = unsigned.split(".");
  const mantissa = BigInt((intPart || "0") + fracPart);
  const scale = 10n ** BigInt(fracPart.length);
  // value = mantissa / scale * base^exp, in nanos
  let numer = mantissa * NANO;
  let denom = scale;
  if (exp >= 0) numer *= base ** BigInt(exp);
  else denom *= base ** BigInt(-exp);
  // Upstream rounds sub-nano precision away from zero.
  const nanos = ceilDiv(numer, denom);
  return { nanos: negative ? -nanos : nanos, format };
}

/** A quantity in base units: cpu "100m" -> 0.1, memory "1Ki" -> 1024. Throws StatusError 400. */
export function parseQuantity(q: string | number): number {
  return Number(parseQuantityExact(q).nanos) / 1e9;
}

/** CPU in millicores, rounded up (upstream MilliValue): "100m" -> 100, "0.5" -> 500, 2 -> 2000. */
export function cpuMillis(q: string | number): number {
  return Number(ceilDiv(parseQuantityExact(q).nanos, 1_000_000n));
}

/** Memory/storage in bytes, rounded up (upstream Value): "128Mi" -> 134217728, "1k" -> 1000. */
export function bytes(q: string | number): number {
  return Number(ceilDiv(parseQuantityExact(q).nanos, NANO));
}

export function isValidQuantity(q: unknown): boolean {
  if (typeof q !== "string" && typeof q !== "number") return false;
  try {
    parseQuantityExact(q);
    return true;
  } catch {
    return false;
  }
}

/**
 * Canonical text of a value (in base units, or exact nanos) as upstream prints it: the largest
 * suffix that keeps an integer mantissa ("0.5" -> "500m", "1000" -> "1k", "1024Mi" -> "1Gi").
 * BinarySI falls back to decimal for values below 1Ki or not a whole multiple of 1Ki.
 */
export function formatQuantity(value: number | bigint | ParsedQuantity, format: QuantityFormat = "DecimalSI"): string {
  let nanos: bigint;
  if (typeof value === "object") {
    nanos = value.nanos;
    format = value.format;
  } else if (typeof value === "bigint") nanos = value;
  else nanos = BigInt(Math.round(value * 1e9)); // float input: round away the binary noise
  if (nanos === 0n) return "0";
  const sign = nanos < 0n ? "-" : "";
  const abs = nanos < 0n ? -nanos : nanos;

  if (format === "BinarySI" && abs % NANO === 0n) {
    const whole = abs / NANO;
    if (whole >= 1024n) {
      let e = 0;
      let m = whole;
      while (m % 1024n === 0n && e < 6) {
        m /= 1024n;
        e++;
      }
      if (e > 0) return `${sign}${m}${BINARY_SUFFIX[e]}`;
    }
  }
  // Largest power of 1000 (from 1e-9 up) that divides the value exactly.
  let e = -9;
  let m = abs;
  while (e < 18 && m % 1000n === 0n) {
    m /= 1000n;
    e += 3;
  }
  if (format === "DecimalExponent") return e === 0 ? `${sign}${m}` : `${sign}${m}e${e}`;
  return `${sign}${m}${DECIMAL_SUFFIX[e] ?? ""}`;
}

/** Canonical form of a quantity as given ("0.5" -> "500m", 1 -> "1", "2048Ki" -> "2Mi"). */
export function canonicalQuantity(q: string | number): string {
  return formatQuantity(parseQuantityExact(q));
}

function numberToPlainString(n: number): string {
  // JSON numbers like 0.5 or 1e21: keep the exponent form so the parser handles it exactly.
  const s = String(n);
  return s.replace("e+", "e");
}

function quantityError(_input: string, message: string): StatusError {
  // Upstream's decode error carries no value; callers add the field path (see validation.ts).
  return badRequest(message);
}
