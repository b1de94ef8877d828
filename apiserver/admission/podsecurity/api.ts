// Pod Security levels, versions and the namespace labels that choose them (upstream
// pod-security-admission/api: constants.go, helpers.go). A namespace's policy has three modes
// (enforce, audit, warn), each a level (privileged < baseline < restricted) at a version ("latest"
// or "v1.N"); an unset label falls back to the default (privileged:latest). A label that does not
// parse is an error, and its mode evaluates as upstream does: enforce at restricted (fail
// closed), audit and warn at privileged (fail open).

import type { FieldError } from "#pkg/api/errors.js";
import { fieldInvalid } from "#pkg/api/errors.js";

export type Level = "privileged" | "baseline" | "restricted";
export const LEVELS: readonly Level[] = ["privileged", "baseline", "restricted"];

export const LABEL_PREFIX = "pod-security.kubernetes.io/";
export const ENFORCE_LEVEL_LABEL = `${LABEL_PREFIX}enforce`;
export const ENFORCE_VERSION_LABEL = `${LABEL_PREFIX}enforce-version`;
export const AUDIT_LEVEL_LABEL = `${LABEL_PREFIX}audit`;
export const AUDIT_VERSION_LABEL = `${LABEL_PREFIX}audit-version`;
export const WARN_LEVEL_LABEL = `${LABEL_PREFIX}warn`;
export const WARN_VERSION_LABEL = `${LABEL_PREFIX}warn-version`;

/** A policy version: "latest", or v1.minor. */
export interface Version {
  readonly latest: boolean;
  readonly minor: number;
}

export const LATEST: Version = { latest: true, minor: 0 };
export const v1 = (minor: number): Version => ({ latest: false, minor });

export function versionString(v: Version): string {
  return v.latest ? "latest" : `v1.${v.minor}`;
}

/** a older than b ("latest" is newer than every numbered version). */
export function olderThan(a: Version, b: Version): boolean {
  if (a.latest) return false;
  if (b.latest) return true;
  return a.minor < b.minor;
}

export interface LevelVersion {
  readonly level: Level;
  readonly version: Version;
}

/** "restricted:latest", "baseline:v1.25". */
export function levelVersionString(lv: LevelVersion): string {
  return `${lv.level}:${versionString(lv.version)}`;
}

export function sameLevelVersion(a: LevelVersion, b: LevelVersion): boolean {
  return a.level === b.level && a.version.latest === b.version.latest && a.version.minor === b.version.minor;
}

/** -1 when a is less strict than b, 0 when equal, 1 when stricter (upstream CompareLevels). */
export function compareLevels(a: Level, b: Level): number {
  return Math.sign(LEVELS.indexOf(a) - LEVELS.indexOf(b));
}

export interface Policy {
  readonly enforce: LevelVersion;
  readonly audit: LevelVersion;
  readonly warn: LevelVersion;
}

const PRIVILEGED_LATEST: LevelVersion = { level: "privileged", version: LATEST };

/** upstream's default PodSecurityConfiguration: every mode privileged:latest. */
export const DEFAULT_POLICY: Policy = { enforce: PRIVILEGED_LATEST, audit: PRIVILEGED_LATEST, warn: PRIVILEGED_LATEST };

const VERSION_RE = /^v1\.([0-9]|[1-9][0-9]*)$/;

/** upstream ParseLevel: an unknown level is restricted, with an error. */
export function parseLevel(s: string): { level: Level; error?: string } {
  if ((LEVELS as readonly string[]).includes(s)) return { level: s as Level };
  return { level: "restricted", error: `must be one of ${LEVELS.join(", ")}` };
}

/** upstream ParseVersion: an unparsable version is latest, with an error. */
export function parseVersion(s: string): { version: Version; error?: string } {
  if (s === "latest") return { version: LATEST };
  const m = VERSION_RE.exec(s);
  if (!m) return { version: LATEST, error: 'must be "latest" or "v1.x"' };
  return { version: v1(Number(m[1])) };
}

/**
 * upstream PolicyToEvaluate: the namespace's policy from its labels (defaults for the unset
 * ones), and the label errors; a usable policy comes back even with errors.
 */
export function policyToEvaluate(
  labels: Readonly<Record<string, string>> | undefined,
  defaults: Policy = DEFAULT_POLICY,
): { policy: Policy; errors: FieldError[] } {
  const errors: FieldError[] = [];
  const err = (label: string, value: string, e: string | undefined) => {
    if (e) errors.push(fieldInvalid(`metadata.labels[${label}]`, value, e));
  };
  const mode = (levelLabel: string, versionLabel: string, def: LevelVersion, failOpen: boolean): LevelVersion => {
    let { level, version } = def;
    const l = labels?.[levelLabel];
    if (l !== undefined) {
      const p = parseLevel(l);
      level = p.error && failOpen ? "privileged" : p.level;
      err(levelLabel, l, p.error);
    }
    const v = labels?.[versionLabel];
    if (v !== undefined) {
      const p = parseVersion(v);
      version = p.version;
      err(versionLabel, v, p.error);
    }
    return { level, version };
  };
  const enforce = mode(ENFORCE_LEVEL_LABEL, ENFORCE_VERSION_LABEL, defaults.enforce, false);
  const audit = mode(AUDIT_LEVEL_LABEL, AUDIT_VERSION_LABEL, defaults.audit, true);
  const warn = mode(WARN_LEVEL_LABEL, WARN_VERSION_LABEL, defaults.warn, true);
  // Upstream collects errors in label order enforce, enforce-version, audit, ..., as above.
  return { policy: { enforce, audit, warn }, errors };
}
