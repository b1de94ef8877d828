// Warning headers (upstream apiserver/pkg/endpoints/filters/warning.go and net/http's
// NewWarningHeader): every warning of a request becomes one `Warning: 299 - "<text>"` header,
// the text quoted with `"` and `\` escaped; kubectl prints each as "Warning: <text>".

import type { FastifyReply } from "fastify";

/** The header value of one warning. */
export function warningHeaderValue(text: string): string {
  // Control characters cannot travel in a header; upstream replaces them too.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
  const clean = text.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, " ");
  const quoted = `"${clean.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  // Node writes header strings as latin1: hand it the UTF-8 bytes one per character so the wire
  // carries UTF-8, as Go's server does.
  return `299 - ${Buffer.from(quoted, "utf8").toString("latin1")}`;
}

/** Adds warnings to the reply's Warning headers (keeping any already set). */
export function addWarningHeaders(reply: FastifyReply, warnings: readonly string[]): void {
  if (warnings.length === 0) return;
  const existing = reply.getHeader("warning");
  const prev = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  reply.header("warning", [...prev, ...warnings.map(warningHeaderValue)]);
}
