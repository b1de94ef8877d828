// Validation shared by PersistentVolumes and PersistentVolumeClaims (upstream
// pkg/apis/core/validation/validation.go: supportedAccessModes, ValidateClassName,
// ValidatePositiveQuantityValue, validatePathNoBacksteps...), in upstream's words.

import { type FieldError, fieldForbidden, fieldInvalid, fieldNotSupported } from "#pkg/api/errors.js";
import { canonicalQuantity, isValidQuantity, parseQuantityExact, QUANTITY_FORMAT_MESSAGE } from "#pkg/api/quantity.js";
import {
  ACCESS_MODES,
  READ_WRITE_ONCE_POD,
  VOLUME_MODE_BLOCK,
  VOLUME_MODE_FILESYSTEM,
} from "#pkg/api/types/storage.js";
import { dns1123SubdomainErrors } from "#pkg/api/validation.js";
import { isObject } from "../../common.js";

/** sets.List(supportedAccessModes): sorted. */
export const SUPPORTED_ACCESS_MODES = [...ACCESS_MODES].sort();
/** sets.List(supportedVolumeModes). */
export const SUPPORTED_VOLUME_MODES = [VOLUME_MODE_BLOCK, VOLUME_MODE_FILESYSTEM];

/** The accessModes loop of ValidatePersistentVolumeSpec / ValidatePersistentVolumeClaimSpec. */
export function validateAccessModes(modes: readonly string[] | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let rwop = false;
  let other = false;
  for (const mode of modes ?? []) {
    const supported = (SUPPORTED_ACCESS_MODES as readonly string[]).includes(mode);
    if (!supported) errs.push(fieldNotSupported(path, mode, SUPPORTED_ACCESS_MODES));
    if (mode === READ_WRITE_ONCE_POD) rwop = true;
    else if (supported) other = true;
  }
  if (rwop && other) errs.push(fieldForbidden(path, "may not use ReadWriteOncePod with other access modes"));
  return errs;
}

export function validateVolumeMode(mode: string | undefined, path: string): FieldError[] {
  if (mode === undefined || (SUPPORTED_VOLUME_MODES as readonly string[]).includes(mode)) return [];
  return [fieldNotSupported(path, mode, SUPPORTED_VOLUME_MODES)];
}

/** ValidateClassName (a DNS subdomain), for a non-empty storageClassName. */
export function validateClassName(name: string | undefined, path: string): FieldError[] {
  if (!name) return [];
  return dns1123SubdomainErrors(name).map((m) => fieldInvalid(path, name, m));
}

/** validateBasicResource + ValidatePositiveQuantityValue: a well-formed quantity above zero. */
export function validatePositiveQuantity(value: unknown, path: string): FieldError[] {
  if (!isValidQuantity(value)) return [fieldInvalid(path, value, QUANTITY_FORMAT_MESSAGE)];
  const q = value as string | number;
  if (parseQuantityExact(q).nanos <= 0n) return [fieldInvalid(path, canonicalQuantity(q), "must be greater than zero")];
  return [];
}

/** validatePathNoBacksteps: no ".." element. */
export function validatePathNoBacksteps(p: string, path: string): FieldError[] {
  return p.split("/").includes("..") ? [fieldInvalid(path, p, "must not contain '..'")] : [];
}

/** Canonical quantities in a resource map (stored as upstream serialises them). */
export function canonicalizeQuantities(m: Record<string, string | number> | undefined): void {
  if (!isObject(m)) return;
  for (const [k, v] of Object.entries(m)) if (isValidQuantity(v)) m[k] = canonicalQuantity(v);
}

/** The storage quantity of a resource map in bytes (exact), or undefined. */
export function storageOf(m: Record<string, string | number> | undefined): bigint | undefined {
  const v = m?.storage;
  if (v === undefined || !isValidQuantity(v)) return undefined;
  return parseQuantityExact(v).nanos;
}
