// API discovery documents (pure functions over the resource table): aggregated discovery
// (apidiscovery.k8s.io v2 and v2beta1) for /api and /apis, the legacy documents (/api,
// /apis, /apis/{group}, /api/v1, /apis/{group}/{version}), and Accept-header negotiation
// for discovery flavours and Table output. See KUBECTL_WIRE.md 1.7 and 1.8.

import { BUILTIN_RESOURCES, type ResourceInfo } from "#pkg/api/resources.js";

export type DiscoveryFlavour = "v2" | "v2beta1" | "legacy";

/** The Content-Type an aggregated answer must carry, or kubectl misparses it as legacy. */
export const DISCOVERY_CONTENT_TYPE: Readonly<Record<Exclude<DiscoveryFlavour, "legacy">, string>> = {
  v2: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
  v2beta1: "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList",
};

/** One media range of an Accept header: type/subtype, lower-cased parameters, q. */
export interface MediaRange {
  type: string;
  params: Record<string, string>;
  q: number;
}

/** Parses an Accept header into media ranges, best first (by q, then by position). */
export function parseAccept(accept: string | undefined): MediaRange[] {
  if (!accept) return [];
  const ranges: Array<MediaRange & { pos: number }> = [];
  accept.split(",").forEach((part, pos) => {
    const [type = "", ...rawParams] = part.split(";").map((s) => s.trim());
    if (!type) return;
    const params: Record<string, string> = {};
    let q = 1;
    for (const p of rawParams) {
      const eq = p.indexOf("=");
      if (eq < 0) continue;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, "$1");
      if (k === "q") q = Number.isFinite(Number(v)) ? Number(v) : 0;
      else params[k] = v;
    }
    ranges.push({ type: type.toLowerCase(), params, q, pos });
  });
  return ranges
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.pos - b.pos)
    .map(({ pos: _, ...r }) => r);
}

const isJson = (t: string) => t === "application/json" || t === "application/*" || t === "*/*";

/**
 * Which discovery document /api and /apis should answer with for this Accept header. v2beta1
 * is not served, as upstream since 1.33 (apidiscovery.k8s.io/v2beta1 off by default): clients
 * that know only it (kubectl <= 1.29) fall back to the legacy documents, as they do there.
 */
export function negotiateDiscovery(accept: string | undefined): Exclude<DiscoveryFlavour, "v2beta1"> {
  for (const r of parseAccept(accept)) {
    if (r.type !== "application/json") {
      if (isJson(r.type)) return "legacy";
      continue;
    }
    if (r.params.as === "APIGroupDiscoveryList" && r.params.g === "apidiscovery.k8s.io") {
      if (r.params.v === "v2") return "v2";
      continue;
    }
    if (r.params.as === undefined) return "legacy";
  }
  return "legacy";
}

/**
 * Whether the Accept header asks for a meta.k8s.io Table before plain JSON; returns the Table
 * version to answer with ("v1" or "v1beta1"), or undefined for a plain object/list.
 */
export function tableVersionFromAccept(accept: string | undefined): "v1" | "v1beta1" | undefined {
  for (const r of parseAccept(accept)) {
    if (!isJson(r.type)) continue;
    if (r.params.as === "Table" && (r.params.g === undefined || r.params.g === "meta.k8s.io")) {
      if (r.params.v === "v1" || r.params.v === undefined) return "v1";
      if (r.params.v === "v1beta1") return "v1beta1";
      continue;
    }
    if (r.params.as === undefined) return undefined;
  }
  return undefined;
}

export function wantsTable(accept: string | undefined): boolean {
  return tableVersionFromAccept(accept) !== undefined;
}

/** Group-versions in discovery order (first appearance in the resource table). */
export function groupVersions(
  resources: readonly ResourceInfo[] = BUILTIN_RESOURCES,
): Array<{ group: string; version: string }> {
  const seen = new Set<string>();
  const out: Array<{ group: string; version: string }> = [];
  for (const r of resources) {
    const key = `${r.group}/${r.version}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ group: r.group, version: r.version });
  }
  return out;
}

function gvString(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

// ---- aggregated discovery ----

export interface APIResourceDiscovery {
  resource: string;
  responseKind: { group: string; version: string; kind: string };
  scope: "Namespaced" | "Cluster";
  singularResource: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: Array<{
    subresource: string;
    responseKind: { group: string; version: string; kind: string };
    verbs: string[];
  }>;
}

export interface APIGroupDiscovery {
  metadata: { name: string };
  versions: Array<{ version: string; resources: APIResourceDiscovery[]; freshness: "Current" }>;
}

export interface APIGroupDiscoveryList {
  kind: "APIGroupDiscoveryList";
  apiVersion: "apidiscovery.k8s.io/v2" | "apidiscovery.k8s.io/v2beta1";
  metadata: Record<string, never>;
  items: APIGroupDiscovery[];
}

function resourceDiscovery(r: ResourceInfo): APIResourceDiscovery {
  const d: APIResourceDiscovery = {
    resource: r.resource,
    responseKind: { group: r.group, version: r.version, kind: r.kind },
    scope: r.namespaced ? "Namespaced" : "Cluster",
    singularResource: r.singular,
    verbs: [...r.verbs],
  };
  if (r.shortNames.length > 0) d.shortNames = [...r.shortNames];
  if (r.categories.length > 0) d.categories = [...r.categories];
  if (r.subresources.length > 0)
    d.subresources = r.subresources.map((s) => ({
      subresource: s.name,
      responseKind: { ...s.kind },
      verbs: [...s.verbs],
    }));
  return d;
}

/**
 * The aggregated discovery document for /api ("core": one item, the legacy group, named "")
 * or /apis ("apis": one item per named group), in the requested flavour.
 */
export function aggregatedDiscovery(
  root: "core" | "apis",
  flavour: "v2" | "v2beta1",
  resources: readonly ResourceInfo[] = BUILTIN_RESOURCES,
): APIGroupDiscoveryList {
  const byGroup = new Map<string, APIGroupDiscovery>();
  for (const r of resources) {
    if ((root === "core") !== (r.group === "")) continue;
    let g = byGroup.get(r.group);
    if (!g) {
      g = { metadata: { name: r.group }, versions: [] };
      byGroup.set(r.group, g);
    }
    let v = g.versions.find((x) => x.version === r.version);
    if (!v) {
      v = { version: r.version, resources: [], freshness: "Current" };
      g.versions.push(v);
    }
    v.resources.push(resourceDiscovery(r));
  }
  return {
    kind: "APIGroupDiscoveryList",
    apiVersion: `apidiscovery.k8s.io/${flavour}`,
    metadata: {},
    items: [...byGroup.values()],
  };
}

// ---- legacy discovery ----

/** GET /api (legacy): the core versions and the address clients should use. */
export function legacyApiVersions(serverAddress: string) {
  return {
    kind: "APIVersions",
    versions: ["v1"],
    serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress }],
  };
}

interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

export interface APIGroup {
  kind?: "APIGroup";
  apiVersion?: "v1";
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion: GroupVersionForDiscovery;
}

function apiGroupOf(group: string, resources: readonly ResourceInfo[]): APIGroup | undefined {
  const versions = groupVersions(resources)
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: gvString(gv.group, gv.version), version: gv.version }));
  const preferred = versions[0];
  if (!preferred) return undefined;
  return { name: group, versions, preferredVersion: preferred };
}

/** GET /apis (legacy): every named group with its versions, the first one preferred. */
export function legacyApiGroupList(resources: readonly ResourceInfo[] = BUILTIN_RESOURCES) {
  const groups: APIGroup[] = [];
  for (const gv of groupVersions(resources)) {
    if (gv.group === "" || groups.some((g) => g.name === gv.group)) continue;
    const g = apiGroupOf(gv.group, resources);
    if (g) groups.push(g);
  }
  return { kind: "APIGroupList", apiVersion: "v1", groups };
}

/** GET /apis/{group}: one group, or undefined if not served. */
export function legacyApiGroup(group: string, resources: readonly ResourceInfo[] = BUILTIN_RESOURCES) {
  if (group === "") return undefined;
  const g = apiGroupOf(group, resources);
  return g ? { kind: "APIGroup" as const, apiVersion: "v1" as const, ...g } : undefined;
}

export interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
}

export interface APIResourceList {
  kind: "APIResourceList";
  apiVersion: "v1";
  groupVersion: string;
  resources: APIResource[];
}

/**
 * GET /api/v1 or /apis/{group}/{version}: the resources of one group-version with
 * "pods/log"-style subresource entries, or undefined if the group-version is not served.
 */
export function apiResourceList(
  group: string,
  version: string,
  resources: readonly ResourceInfo[] = BUILTIN_RESOURCES,
): APIResourceList | undefined {
  const mine = resources.filter((r) => r.group === group && r.version === version);
  if (mine.length === 0) return undefined;
  const out: APIResource[] = [];
  for (const r of mine) {
    const entry: APIResource = {
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: [...r.verbs],
    };
    if (r.shortNames.length > 0) entry.shortNames = [...r.shortNames];
    if (r.categories.length > 0) entry.categories = [...r.categories];
    out.push(entry);
    for (const s of r.subresources) {
      const sub: APIResource = {
        name: `${r.resource}/${s.name}`,
        singularName: "",
        namespaced: r.namespaced,
        kind: s.kind.kind,
        verbs: [...s.verbs],
      };
      // Upstream names the group/version only when the subresource speaks another one (scale).
      if (s.kind.group !== group || s.kind.version !== version) {
        sub.group = s.kind.group;
        sub.version = s.kind.version;
      }
      out.push(sub);
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: gvString(group, version), resources: out };
}
