// intstr.IntOrString helpers (upstream apimachinery/pkg/util/intstr): fields such as maxSurge,
// maxUnavailable and minAvailable that hold a count (3) or a percentage of a total ("25%").

/** The value as upstream's IntOrString.String() prints it: 3 -> "3", "25%" -> "25%". */
export function intOrStringText(v: number | string): string {
  return typeof v === "number" ? String(v) : v;
}

/**
 * upstream GetScaledValueFromIntOrPercent: an int as it is, a percentage of `total` rounded up
 * (roundUp) or down. Throws on a string that is not a percentage, with upstream's message.
 */
export function scaledValueFromIntOrPercent(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) throw new Error("nil value for IntOrString");
  if (typeof v === "number") return Math.trunc(v);
  if (!v.endsWith("%")) throw new Error("invalid value for IntOrString: invalid type: string is not a percentage");
  const digits = v.slice(0, -1);
  if (!/^[+-]?\d+$/.test(digits)) {
    throw new Error(
      `invalid value for IntOrString: invalid value ${JSON.stringify(v)}: strconv.Atoi: parsing ${JSON.stringify(digits)}: invalid syntax`,
    );
  }
  const scaled = (Number(digits) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}
