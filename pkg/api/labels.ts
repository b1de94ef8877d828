// Label selectors, as upstream's apimachinery/pkg/labels: the string form used on the query
// string (`app in (web,api),tier!=db,!legacy`) and the structured form used in specs
// (matchLabels / matchExpressions). Both produce the same Selector.

import { badRequest, type StatusError } from "./errors.js";

export type Operator = "=" | "==" | "!=" | "in" | "notin" | "exists" | "!" | "gt" | "lt";

export interface Requirement {
  key: string;
  operator: Operator;
  /** Sorted, de-duplicated. Empty for exists / "!". */
  values: string[];
}

export interface Selector {
  matches(labels: Record<string, string> | undefined): boolean;
  /** Canonical form: requirements sorted by key, set values sorted (as upstream's String()). */
  toString(): string;
  /** True when the selector selects everything. */
  readonly empty: boolean;
  readonly requirements: readonly Requirement[];
}

/** Structural copy of metav1.LabelSelector, so this file does not depend on the kind types. */
export interface LabelSelectorLike {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] | null }> | null;
}

const NAME_RE = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/** Problems with a label key (qualified name), empty when valid. Upstream: IsQualifiedName. */
export function labelKeyErrors(key: string): string[] {
  const errs: string[] = [];
  const parts = key.split("/");
  let name: string;
  if (parts.length === 1) {
    name = key;
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? "";
    name = parts[1] ?? "";
    if (prefix.length === 0) errs.push("prefix part must be non-empty");
    else {
      if (prefix.length > 253) errs.push("prefix part must be no more than 253 bytes");
      if (!DNS1123_SUBDOMAIN_RE.test(prefix))
        errs.push(
          "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
        );
    }
  } else {
    return [
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push("name part must be non-empty");
  else if (name.length > 63) errs.push("name part must be no more than 63 characters");
  if (name.length > 0 && !NAME_RE.test(name)) errs.push(NAME_MSG);
  return errs;
}

/** Problems with a label value, empty when valid. Upstream: IsValidLabelValue. */
export function labelValueErrors(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push("must be no more than 63 characters");
  if (value.length > 0 && !NAME_RE.test(value)) errs.push(VALUE_MSG);
  return errs;
}

function requirementError(detail: string): StatusError {
  return badRequest(`unable to parse requirement: ${detail}`);
}

/** Builds a validated requirement (upstream: NewRequirement). Throws a 400 StatusError. */
export function newRequirement(key: string, operator: Operator, values: readonly string[]): Requirement {
  const keyErrs = labelKeyErrors(key);
  if (keyErrs.length > 0) throw requirementError(`<nil>: Invalid value: ${JSON.stringify(key)}: ${keyErrs.join("; ")}`);
  switch (operator) {
    case "in":
    case "notin":
      if (values.length === 0)
        throw requirementError("values: Invalid value: []: for 'in', 'notin' operators, values set can't be empty");
      break;
    case "=":
    case "==":
    case "!=":
      if (values.length !== 1)
        throw requirementError(
          `values: Invalid value: ${JSON.stringify(values)}: exact-match compatibility requires one single value`,
        );
      break;
    case "exists":
    case "!":
      if (values.length !== 0)
        throw requirementError(
          `values: Invalid value: ${JSON.stringify(values)}: values set must be empty for exists and does not exist`,
        );
      break;
    case "gt":
    case "lt":
      if (values.length !== 1 || !/^-?\d+$/.test(values[0] ?? ""))
        throw requirementError(
          `values: Invalid value: ${JSON.stringify(values)}: for 'Gt', 'Lt' operators, exactly one integer value is required`,
        );
      return { key, operator, values: [...values] };
  }
  values.forEach((v, i) => {
    const errs = labelValueErrors(v);
    if (errs.length > 0)
      throw requirementError(`values[${i}][${key}]: Invalid value: ${JSON.stringify(v)}: ${errs.join("; ")}`);
  });
  return { key, operator, values: [...new Set(values)].sort() };
}

function requirementMatches(r: Requirement, labels: Record<string, string> | undefined): boolean {
  const has = labels !== undefined && Object.hasOwn(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case "=":
    case "==":
    case "in":
      return has && r.values.includes(value as string);
    case "!=":
    case "notin":
      return !has || !r.values.includes(value as string);
    case "exists":
      return has;
    case "!":
      return !has;
    case "gt":
    case "lt": {
      if (!has || !/^-?\d+$/.test(value as string)) return false;
      const lhs = Number(value);
      const rhs = Number(r.values[0]);
      return r.operator === "gt" ? lhs > rhs : lhs < rhs;
    }
  }
}

function requirementString(r: Requirement): string {
  switch (r.operator) {
    case "exists":
      return r.key;
    case "!":
      return `!${r.key}`;
    case "=":
    case "==":
    case "!=":
      return `${r.key}${r.operator}${r.values[0] ?? ""}`;
    case "in":
    case "notin":
      return `${r.key} ${r.operator} (${r.values.join(",")})`;
    case "gt":
      return `${r.key}>${r.values[0] ?? ""}`;
    case "lt":
      return `${r.key}<${r.values[0] ?? ""}`;
  }
}

/** A selector over the given requirements (sorted by key, stable, as upstream). */
export function selectorOf(requirements: readonly Requirement[]): Selector {
  const reqs = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return {
    requirements: reqs,
    empty: reqs.length === 0,
    matches: (labels) => reqs.every((r) => requirementMatches(r, labels)),
    toString: () => reqs.map(requirementString).join(","),
  };
}

/** Selects everything. */
export const everything: Selector = selectorOf([]);

/** Selects nothing (upstream: labels.Nothing(), what a nil LabelSelector converts to). */
export const nothing: Selector = {
  requirements: [],
  empty: false,
  matches: () => false,
  toString: () => "",
};

// ---- string parsing: a small lexer and recursive-descent parser, as upstream's ----

type TokenKind = "id" | "!" | "," | "=" | "==" | "!=" | "in" | "notin" | "(" | ")" | ">" | "<" | "end";
interface Token {
  kind: TokenKind;
  text: string;
}

const SPECIAL = "!=(),<>";

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] as string;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (SPECIAL.includes(c)) {
      const two = input.slice(i, i + 2);
      if (two === "==" || two === "!=") {
        tokens.push({ kind: two, text: two });
        i += 2;
      } else {
        tokens.push({ kind: c as TokenKind, text: c });
        i++;
      }
      continue;
    }
    let j = i;
    while (j < input.length && !SPECIAL.includes(input[j] as string) && !/\s/.test(input[j] as string)) j++;
    const word = input.slice(i, j);
    tokens.push({ kind: word === "in" ? "in" : word === "notin" ? "notin" : "id", text: word });
    i = j;
  }
  tokens.push({ kind: "end", text: "" });
  return tokens;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos] as Token;
  }
  private next(): Token {
    const t = this.tokens[this.pos] as Token;
    if (this.pos < this.tokens.length - 1) this.pos++;
    return t;
  }
  private fail(found: Token, expected: string): never {
    throw requirementError(`found '${found.text}', expected: ${expected}`);
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    if (this.peek().kind === "end") return reqs;
    for (;;) {
      reqs.push(this.requirement());
      const t = this.next();
      if (t.kind === "end") return reqs;
      if (t.kind !== ",") this.fail(t, "',' or 'end of string'");
      const after = this.peek();
      if (after.kind !== "id" && after.kind !== "!") this.fail(after, "identifier or '!'");
    }
  }

  private requirement(): Requirement {
    let t = this.next();
    if (t.kind === "!") {
      t = this.next();
      if (t.kind !== "id") this.fail(t, "identifier");
      return newRequirement(t.text, "!", []);
    }
    if (t.kind !== "id") this.fail(t, "!, identifier, or 'end of string'");
    const key = t.text;
    const op = this.peek();
    if (op.kind === "end" || op.kind === ",") return newRequirement(key, "exists", []);
    this.next();
    switch (op.kind) {
      case "=":
      case "==":
      case "!=":
        return newRequirement(key, op.kind, [this.exactValue()]);
      case ">":
      case "<":
        return newRequirement(key, op.kind === ">" ? "gt" : "lt", [this.exactValue()]);
      case "in":
      case "notin":
        return newRequirement(key, op.kind, this.valueSet());
      default:
        return this.fail(op, "in, notin, =, ==, !=, gt, lt");
    }
  }

  /** One value after =, ==, !=: may be empty (`a=` means value ""). */
  private exactValue(): string {
    const t = this.peek();
    if (t.kind === "id") {
      this.next();
      return t.text;
    }
    if (t.kind === "end" || t.kind === ",") return "";
    // Upstream accepts keywords as values too (`a=in`).
    if (t.kind === "in" || t.kind === "notin") {
      this.next();
      return t.text;
    }
    return this.fail(t, "identifier");
  }

  private valueSet(): string[] {
    const open = this.next();
    if (open.kind !== "(") this.fail(open, "'('");
    const values: string[] = [];
    // Upstream allows empty members: `a in (,b)` includes "".
    let expectValue = true;
    for (;;) {
      const t = this.next();
      if (t.kind === ")") {
        if (expectValue && values.length > 0) values.push("");
        if (values.length === 0) values.push("");
        return values;
      }
      if (t.kind === ",") {
        if (expectValue) values.push("");
        expectValue = true;
        continue;
      }
      if ((t.kind === "id" || t.kind === "in" || t.kind === "notin") && expectValue) {
        values.push(t.text);
        expectValue = false;
        continue;
      }
      this.fail(t, expectValue ? "identifier, ',' or ')'" : "',' or ')'");
    }
  }
}

/**
 * Parses a label selector string. Empty (or blank) selects everything. Throws a 400
 * StatusError ("unable to parse requirement: ...") on bad syntax or invalid keys/values.
 */
export function parseLabelSelector(s: string): Selector {
  return selectorOf(new Parser(lex(s)).parse());
}

/**
 * The structured form from specs (upstream: LabelSelectorAsSelector). undefined/null selects
 * nothing; an empty object selects everything. Throws a 400 StatusError on invalid content.
 */
export function selectorFromLabelSelector(ls: LabelSelectorLike | null | undefined): Selector {
  if (ls === null || ls === undefined) return nothing;
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(ls.matchLabels ?? {})) reqs.push(newRequirement(k, "=", [v]));
  for (const e of ls.matchExpressions ?? []) {
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        reqs.push(newRequirement(e.key, "in", values));
        break;
      case "NotIn":
        reqs.push(newRequirement(e.key, "notin", values));
        break;
      case "Exists":
        reqs.push(newRequirement(e.key, "exists", values));
        break;
      case "DoesNotExist":
        reqs.push(newRequirement(e.key, "!", values));
        break;
      default:
        throw badRequest(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
    }
  }
  return selectorOf(reqs);
}

/** The selector that matches exactly these labels (upstream: SelectorFromSet). */
export function selectorFromSet(set: Record<string, string> | undefined): Selector {
  return selectorOf(Object.entries(set ?? {}).map(([k, v]) => newRequirement(k, "=", [v])));
}
