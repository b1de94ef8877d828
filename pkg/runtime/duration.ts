// Go's time.ParseDuration and Duration.String, in milliseconds: the one duration grammar of every
// flag and CLI option ("1h30m", "500ms", "1.5s", "-2m"). Like kubectl's flags we also take a bare
// number as seconds ("30"), which kubeling has always accepted.

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

export class DurationError extends Error {
  constructor(value: string, why?: string) {
    super(`time: invalid duration "${value}"${why ? `: ${why}` : ""}`);
    this.name = "DurationError";
  }
}

/** parseDuration: a Go duration string → milliseconds (may be fractional below 1 ms). */
export function parseDuration(value: string): number {
  const s = value.trim();
  if (s === "") throw new DurationError(value);
  if (/^[+-]?\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  let rest = s;
  let sign = 1;
  if (rest[0] === "-" || rest[0] === "+") {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  const re = /^(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
  let total = 0;
  while (rest.length > 0) {
    const m = re.exec(rest);
    if (!m) throw new DurationError(value, /^(\d|\.)/.test(rest) ? "missing or unknown unit" : undefined);
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  return sign * total;
}

/** formatDuration: milliseconds → Go's Duration.String ("1h30m0s", "500ms", "0s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const neg = ms < 0;
  let v = Math.abs(ms);
  let out: string;
  if (v < 1000) {
    out = `${Number(v.toFixed(6))}ms`;
  } else {
    const h = Math.floor(v / 3_600_000);
    v -= h * 3_600_000;
    const m = Math.floor(v / 60_000);
    v -= m * 60_000;
    const sec = `${Number((v / 1000).toFixed(9))}s`;
    out = h > 0 ? `${h}h${m}m${sec}` : m > 0 ? `${m}m${sec}` : sec;
  }
  return neg ? `-${out}` : out;
}
