// Cron schedules as upstream's CronJobs read them (robfig/cron v3's ParseStandard): five fields
// (minute hour day-of-month month day-of-week), the @yearly/@annually/@monthly/@weekly/@daily/
// @midnight/@hourly macros, `@every <duration>`, and an optional TZ=/CRON_TZ= prefix. Syntax is
// checked here, with robfig's error messages (the API server returns them as upstream does);
// the times a schedule fires at come from cron-parser, in the schedule's time zone.

import { CronExpressionParser } from "cron-parser";

const MACROS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

interface Bounds {
  min: number;
  max: number;
  names?: readonly string[];
  /** The value of names[0]. */
  nameBase?: number;
}

const FIELDS: readonly Bounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { min: 0, max: 6, names: DAYS, nameBase: 0 },
];

class CronSyntaxError extends Error {}

/** Go's strconv.Atoi on a cron token, with robfig's wrapping of its error. */
function mustParseInt(expr: string): number {
  if (!/^[+-]?\d+$/.test(expr)) {
    throw new CronSyntaxError(
      `failed to parse int from ${expr}: strconv.Atoi: parsing ${JSON.stringify(expr)}: invalid syntax`,
    );
  }
  const n = Number.parseInt(expr, 10);
  if (n < 0) throw new CronSyntaxError(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseIntOrName(expr: string, b: Bounds): number {
  if (b.names) {
    const i = b.names.indexOf(expr.toLowerCase());
    if (i >= 0) return i + (b.nameBase ?? 0);
  }
  return mustParseInt(expr);
}

/** One comma-separated part of a field (robfig getRange). */
function checkRange(expr: string, b: Bounds): void {
  const rangeAndStep = expr.split("/");
  const lowAndHigh = (rangeAndStep[0] ?? "").split("-");
  const single = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  const low = lowAndHigh[0] ?? "";
  if (low === "*" || low === "?") {
    start = b.min;
    end = b.max;
  } else {
    start = parseIntOrName(low, b);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1] ?? "", b);
    else throw new CronSyntaxError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = mustParseInt(rangeAndStep[1] ?? "");
    if (single) end = b.max;
  } else if (rangeAndStep.length > 2) {
    throw new CronSyntaxError(`too many slashes: ${expr}`);
  }
  if (start < b.min) throw new CronSyntaxError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) throw new CronSyntaxError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) throw new CronSyntaxError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronSyntaxError(`step of range should be a positive number: ${expr}`);
}

/** A Go duration ("1h30m", "90s", "1.5m") in milliseconds; undefined when it is not one. */
export function parseGoDuration(s: string): number | undefined {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  if (s === "0") return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  const sign = s.startsWith("-") ? -1 : 1;
  const body = s.startsWith("-") || s.startsWith("+") ? s.slice(1) : s;
  if (body === "") return undefined;
  re.lastIndex = 0;
  for (;;) {
    if (pos === body.length) break;
    const m = re.exec(body);
    if (!m || m.index !== pos) return undefined;
    total += Number(m[1]) * (units[m[2] ?? ""] ?? 0);
    pos = re.lastIndex;
  }
  return sign * total;
}

/** A schedule: the first time after `after` it fires at (robfig's Schedule.Next). */
export interface CronSchedule {
  next(after: Date): Date;
}

/** An IANA time zone name the runtime knows (Go's time.LoadLocation; "" and "UTC" are UTC). */
export function isKnownTimeZone(tz: string): boolean {
  if (tz === "" || tz === "UTC") return true;
  if (tz.toLowerCase() === "local") return true;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

interface Parsed {
  tz?: string;
  /** Five fields, or an @every period in ms. */
  fields?: string;
  everyMs?: number;
}

function parse(spec: string): Parsed {
  if (spec.length === 0) throw new CronSyntaxError("empty spec string");
  let tz: string | undefined;
  if (spec.startsWith("TZ=") || spec.startsWith("CRON_TZ=")) {
    const i = spec.indexOf(" ");
    const eq = spec.indexOf("=");
    const name = spec.slice(eq + 1, i < 0 ? undefined : i);
    if (!isKnownTimeZone(name) || i < 0) {
      throw new CronSyntaxError(`provided bad location ${name}: unknown time zone ${name}`);
    }
    tz = name;
    spec = spec.slice(i).trim();
  }
  if (spec.startsWith("@")) {
    const macro = MACROS[spec];
    if (macro) return { ...(tz ? { tz } : {}), fields: macro };
    const every = "@every ";
    if (spec.startsWith(every)) {
      const d = spec.slice(every.length);
      const ms = parseGoDuration(d);
      if (ms === undefined)
        throw new CronSyntaxError(`failed to parse duration ${spec}: time: invalid duration ${JSON.stringify(d)}`);
      // robfig's Every: at least a second, whole seconds.
      return { ...(tz ? { tz } : {}), everyMs: Math.max(1000, ms - (ms % 1000)) };
    }
    throw new CronSyntaxError(`unrecognized descriptor: ${spec}`);
  }
  const fields = spec.split(/\s+/).filter((f) => f !== "");
  if (fields.length !== 5) {
    throw new CronSyntaxError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(" ")}]`);
  }
  fields.forEach((f, i) => {
    const b = FIELDS[i] as Bounds;
    for (const part of f.split(",")) checkRange(part, b);
  });
  // robfig treats "*", "?" and "*/1" alike as a wildcard (its star bit), which decides whether
  // day-of-month and day-of-week combine with AND (one is a wildcard) or OR; cron-parser
  // recognises only "*" as one.
  const normal = fields.map((f) => (f.split(",").every((p) => p === "*" || p === "?" || p === "*/1") ? "*" : f));
  return { ...(tz ? { tz } : {}), fields: normal.join(" ") };
}

/** Why a schedule does not parse (robfig's message), or undefined when it does. */
export function cronScheduleError(spec: string): string | undefined {
  try {
    parse(spec);
    return undefined;
  } catch (err) {
    if (err instanceof CronSyntaxError) return err.message;
    throw err;
  }
}

/**
 * parseCronSchedule: the schedule `spec` in time zone `timeZone` (default UTC; a TZ= prefix in
 * spec wins, as in robfig). Throws an Error with robfig's message when spec does not parse.
 */
export function parseCronSchedule(spec: string, timeZone?: string): CronSchedule {
  const p = parse(spec);
  if (p.everyMs !== undefined) {
    const period = p.everyMs;
    // robfig ConstantDelaySchedule: t + period, dropping t's fraction of a second.
    return { next: (after) => new Date(after.getTime() - (after.getTime() % 1000) + period) };
  }
  const tz = p.tz ?? (timeZone && timeZone !== "" ? timeZone : "UTC");
  const fields = p.fields as string;
  return {
    next(after) {
      const it = CronExpressionParser.parse(fields, { currentDate: after, tz, strict: false });
      return it.next().toDate();
    },
  };
}
