// How the storage kinds print (upstream helper.GetAccessModesAsString and Quantity.String() of a
// storage capacity), shared by the API server's tables and the CLI's describers.

import { formatQuantity, isValidQuantity, parseQuantityExact } from "./quantity.js";
import { READ_ONLY_MANY, READ_WRITE_MANY, READ_WRITE_ONCE, READ_WRITE_ONCE_POD } from "./types/storage.js";

/** upstream helper.GetAccessModesAsString: RWO,ROX,RWX,RWOP in that order, duplicates dropped. */
export function accessModesString(modes: readonly string[] | undefined): string {
  const have = new Set(modes ?? []);
  const out: string[] = [];
  if (have.has(READ_WRITE_ONCE)) out.push("RWO");
  if (have.has(READ_ONLY_MANY)) out.push("ROX");
  if (have.has(READ_WRITE_MANY)) out.push("RWX");
  if (have.has(READ_WRITE_ONCE_POD)) out.push("RWOP");
  return out.join(",");
}

/** Quantity.String() of a resource map's storage ("0" when absent, as a zero Quantity prints). */
export function storageString(m: Record<string, string | number> | undefined): string {
  const v = m?.storage;
  if (v === undefined || !isValidQuantity(v)) return "0";
  return formatQuantity(parseQuantityExact(v));
}
