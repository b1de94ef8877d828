// Go's strconv.ParseBool, which upstream's clients and servers use for boolean query parameters:
// the Python client sends `watch=True` and `stdout=True`, client-go `true`, kubectl `1` or `true`.

const TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);

/** parseBool: true or false for ParseBool's spellings, undefined for anything else. */
export function parseBool(v: string): boolean | undefined {
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return undefined;
}
