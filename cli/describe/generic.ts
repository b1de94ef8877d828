// The describer for kinds without a dedicated one: metadata first, then every other field
// as an indented tree, like kubectl's generic describer.

import type { KubeObject } from "#pkg/api/meta.js";
import { rfc1123z } from "../format.js";
import { annotationsMultiline, labelsMultiline, type PrefixWriter } from "./writer.js";

function titleCase(key: string): string {
  return key.charAt(0).toUpperCase() + key.slice(1);
}

function printValue(w: PrefixWriter, level: number, rawKey: string, value: unknown): void {
  // Field names are title-cased at the top level only; map keys below are data.
  const title = (k: string) => (level === 0 && k === rawKey ? titleCase(k) : k);
  const key = rawKey;
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    if (value.length === 0) return;
    if (value.every((v) => typeof v !== "object" || v === null)) {
      w.write(level, `${title(key)}:\n`);
      for (const v of value) w.write(level + 1, `${String(v)}\n`);
      return;
    }
    w.write(level, `${title(key)}:\n`);
    for (const v of value) {
      const entries = Object.entries(v as Record<string, unknown>);
      entries.forEach(([k, x], i) => {
        if (typeof x === "object" && x !== null) printValue(w, level + 1, k, x);
        else w.write(level + 1, `${i === 0 ? "- " : "  "}${k}:\t${String(x)}\n`);
      });
    }
    return;
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return;
    w.write(level, `${title(key)}:\n`);
    for (const [k, x] of entries) printValue(w, level + 1, k, x);
    return;
  }
  w.write(level, `${title(key)}:\t${String(value)}\n`);
}

export function describeGeneric(w: PrefixWriter, obj: KubeObject): void {
  const m = obj.metadata;
  w.write(0, `Name:\t${m.name ?? ""}\n`);
  if (m.namespace) w.write(0, `Namespace:\t${m.namespace}\n`);
  labelsMultiline(w, 0, "Labels", m.labels);
  annotationsMultiline(w, 0, "Annotations", m.annotations);
  if (m.creationTimestamp) w.write(0, `CreationTimestamp:\t${rfc1123z(m.creationTimestamp)}\n`);
  const controller = m.ownerReferences?.find((o) => o.controller);
  if (controller) w.write(0, `Controlled By:\t${controller.kind}/${controller.name}\n`);
  for (const [k, v] of Object.entries(obj)) {
    if (k === "metadata" || k === "apiVersion" || k === "kind") continue;
    printValue(w, 0, k, v);
  }
}
