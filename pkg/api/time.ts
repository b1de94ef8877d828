// metav1.Time and metav1.MicroTime as they go on the wire (upstream apimachinery/pkg/apis/meta/v1
// time.go, micro_time.go): RFC 3339 in UTC, whole seconds for Time, microseconds for MicroTime.

/** metav1.Time: "2026-01-01T00:00:00Z" (truncated to the second). */
export function metaTime(ms: number | Date = Date.now()): string {
  const t = typeof ms === "number" ? ms : ms.getTime();
  return new Date(Math.floor(t / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** metav1.MicroTime: "2026-01-01T00:00:00.123000Z" (JavaScript clocks have millisecond resolution). */
export function microTime(ms: number | Date = Date.now()): string {
  const t = typeof ms === "number" ? ms : ms.getTime();
  return new Date(t).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
