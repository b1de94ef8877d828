// Field selectors, as upstream's apimachinery/pkg/fields: `a=b`, `a==b`, `a!=b`, comma
// separated, with `\`, `,` and `=` escaped by a backslash inside values. A field the object
// does not have counts as "", so `involvedObject.namespace=` matches events about nodes.

import { badRequest } from "./errors.js";

export interface FieldRequirement {
  field: string;
  operator: "=" | "!=";
  value: string;
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  readonly empty: boolean;
  matches(fields: Record<string, string | undefined>): boolean;
  /** Canonical form (upstream's String(): terms in given order, values escaped). */
  toString(): string;
  /** The value required by `field=value`, if the selector has such a term (used to narrow a read). */
  requiresExactMatch(field: string): string | undefined;
}

/** Escapes a value for use in a field selector string. */
export function escapeFieldValue(v: string): string {
  return v.replace(/[\\,=]/g, (c) => `\\${c}`);
}

function unescapeValue(v: string, selector: string): string {
  let out = "";
  let inSlash = false;
  for (const c of v) {
    if (inSlash) {
      if (c !== "\\" && c !== "," && c !== "=")
        throw badRequest(`invalid field selector: invalid escape sequence: \\${c}`);
      out += c;
      inSlash = false;
      continue;
    }
    if (c === "\\") inSlash = true;
    else if (c === "," || c === "=")
      throw badRequest(`invalid field selector: invalid selector: '${selector}'; unescaped ${c} in value`);
    else out += c;
  }
  if (inSlash) throw badRequest("invalid field selector: invalid escape sequence: \\");
  return out;
}

/** Splits on commas that are not escaped. */
function splitTerms(s: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inSlash) inSlash = false;
    else if (c === "\\") inSlash = true;
    else if (c === ",") {
      terms.push(s.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(s.slice(start));
  return terms;
}

/** Finds the first unescaped operator: `!=`, `==` or `=`, checked in that order at each position. */
function splitTerm(term: string): { lhs: string; op: string; rhs: string } | undefined {
  let inSlash = false;
  for (let i = 0; i < term.length; i++) {
    if (inSlash) {
      inSlash = false;
      continue;
    }
    if (term[i] === "\\") {
      inSlash = true;
      continue;
    }
    for (const op of ["!=", "==", "="]) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

export function fieldSelectorOf(requirements: readonly FieldRequirement[]): FieldSelector {
  const reqs = [...requirements];
  return {
    requirements: reqs,
    empty: reqs.length === 0,
    matches: (fields) =>
      reqs.every((r) => {
        const actual = fields[r.field] ?? "";
        return r.operator === "=" ? actual === r.value : actual !== r.value;
      }),
    toString: () => reqs.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(","),
    requiresExactMatch: (field) => reqs.find((r) => r.field === field && r.operator === "=")?.value,
  };
}

/** Parses a field selector string; empty selects everything. Throws a 400 StatusError. */
export function parseFieldSelector(s: string): FieldSelector {
  const reqs: FieldRequirement[] = [];
  if (s.trim() === "") return fieldSelectorOf(reqs);
  for (const term of splitTerms(s)) {
    if (term === "") continue;
    const parts = splitTerm(term);
    if (!parts) throw badRequest(`invalid field selector: invalid selector: '${s}'; can't understand '${term}'`);
    const field = parts.lhs.trim();
    if (field === "") throw badRequest(`invalid field selector: invalid selector: '${s}'; field name is empty`);
    reqs.push({ field, operator: parts.op === "!=" ? "!=" : "=", value: unescapeValue(parts.rhs, s) });
  }
  return fieldSelectorOf(reqs);
}
