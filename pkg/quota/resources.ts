// Resource lists for quota (upstream apiserver/pkg/quota/v1/resources.go): name -> exact
// quantity (nanos, and the format it prints in), with the set operations quota admission and the
// resource quota controller share. Sums keep the format of their left operand, as Quantity.Add.

import { formatQuantity, isValidQuantity, type ParsedQuantity, parseQuantityExact } from "../api/quantity.js";

export type ResourceList = Map<string, ParsedQuantity>;

const ZERO: ParsedQuantity = { nanos: 0n, format: "DecimalSI" };

/** A quantity of n whole units (object counts). */
export const count = (n: number): ParsedQuantity => ({ nanos: BigInt(n) * 1_000_000_000n, format: "DecimalSI" });

/** A ResourceList from an API map of quantities; entries that are not quantities are left out. */
export function parseResourceList(m: Readonly<Record<string, string | number>> | undefined): ResourceList {
  const out: ResourceList = new Map();
  for (const [k, v] of Object.entries(m ?? {})) if (isValidQuantity(v)) out.set(k, parseQuantityExact(v));
  return out;
}

/** The API form: name -> canonical quantity string. */
export function formatResourceList(l: ResourceList): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [...l.keys()].sort()) out[k] = formatQuantity(l.get(k) ?? ZERO);
  return out;
}

export function resourceNames(l: ResourceList): string[] {
  return [...l.keys()];
}

/** a + b (keys of either). */
export function add(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map(a);
  for (const [k, v] of b) {
    const cur = out.get(k);
    out.set(k, cur ? { nanos: cur.nanos + v.nanos, format: cur.format } : v);
  }
  return out;
}

/** a - b (keys of either; a key only in b becomes negative). */
export function subtract(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = new Map(a);
  for (const [k, v] of b) {
    const cur = out.get(k);
    out.set(k, cur ? { nanos: cur.nanos - v.nanos, format: cur.format } : { nanos: -v.nanos, format: v.format });
  }
  return out;
}

/** The entries of l whose names are in names. */
export function mask(l: ResourceList, names: Iterable<string>): ResourceList {
  const keep = new Set(names);
  return new Map([...l].filter(([k]) => keep.has(k)));
}

/** a <= b for every key of a that b has (upstream LessThanOrEqual), and the keys that are not. */
export function lessThanOrEqual(a: ResourceList, b: ResourceList): { ok: boolean; exceeded: string[] } {
  const exceeded: string[] = [];
  for (const [k, v] of a) {
    const limit = b.get(k);
    if (limit && v.nanos > limit.nanos) exceeded.push(k);
  }
  return { ok: exceeded.length === 0, exceeded };
}

/** Same keys, same values. */
export function equals(a: ResourceList, b: ResourceList): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k)?.nanos !== v.nanos) return false;
  return true;
}

export function isZero(l: ResourceList): boolean {
  for (const v of l.values()) if (v.nanos !== 0n) return false;
  return true;
}

/** The names with a negative value. */
export function isNegative(l: ResourceList): string[] {
  return [...l].filter(([, v]) => v.nanos < 0n).map(([k]) => k);
}

/** "limits.cpu=1,pods=2" (upstream prettyPrint: names sorted). */
export function prettyPrint(l: ResourceList): string {
  return [...l.keys()]
    .sort()
    .map((k) => `${k}=${formatQuantity(l.get(k) ?? ZERO)}`)
    .join(",");
}

/** Every name zero (upstream's starting point of a usage calculation). */
export function zeros(names: Iterable<string>): ResourceList {
  return new Map([...names].map((n) => [n, ZERO]));
}
