// Small formatting helpers shared by the printers and describers, matching kubectl's
// (apimachinery duration.HumanDuration, Go's time.RFC1123Z, label rendering).

import { humanDuration } from "#pkg/api/duration.js";

export { humanDuration };

/** Age of a timestamp, "<unknown>" when absent (kubectl's translateTimestampSince). */
export function since(timestamp: string | undefined, now: number = Date.now()): string {
  if (!timestamp) return "<unknown>";
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return "<unknown>";
  return humanDuration(now - t);
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Go's time.RFC1123Z in UTC: "Sun, 22 Nov 2026 00:30:21 +0000". */
export function rfc1123z(timestamp: string | undefined): string {
  if (!timestamp) return "<unset>";
  const d = new Date(timestamp);
  if (Number.isNaN(d.getTime())) return timestamp;
  const p = (n: number) => String(n).padStart(2, "0");
  return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** "a=b,c=d" with sorted keys, "<none>" when empty. */
export function labelsString(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return "<none>";
  return keys.map((k) => `${k}=${labels?.[k]}`).join(",");
}
