// strategyFor(r): the Strategy of every built-in resource; unknownFields(r, obj): fields of a
// request body that the kind's schema does not declare (for ?fieldValidation).

import type { KubeObject } from "#pkg/api/meta.js";
import { apiVersionOf, BUILTIN_RESOURCES, type ResourceInfo } from "#pkg/api/resources.js";
import { unknownFieldsBySchema } from "#pkg/api/schema/unknown.js";
import { schemaForKind } from "#pkg/api/types/schemas.js";
import type { Strategy } from "../strategy.js";
import { APPS_STRATEGIES } from "./apps.js";
import { BATCH_STRATEGIES } from "./batch.js";
import { age, ageCol, makeStrategy, nameCol } from "./common.js";
import { COORDINATION_STRATEGIES } from "./coordination.js";
import { CORE_STRATEGIES } from "./core.js";
import { podStrategy } from "./pod.js";

export { formatAge } from "#pkg/api/duration.js";

type Factory = (r: ResourceInfo) => Strategy;

const byGroup: Record<string, Record<string, Factory>> = {
  "": { pods: podStrategy as Factory, ...CORE_STRATEGIES },
  apps: APPS_STRATEGIES,
  batch: BATCH_STRATEGIES,
  "coordination.k8s.io": COORDINATION_STRATEGIES,
};

/** The fallback: metadata-only semantics with Name/Age columns. */
function genericStrategy(r: ResourceInfo): Strategy {
  return makeStrategy<KubeObject>(r, {
    columns: [nameCol(), ageCol()],
    row: (obj, now) => [obj.metadata.name ?? "", age(obj, now)],
  });
}

const cache = new Map<ResourceInfo, Strategy>();

/** The Strategy of a resource (every entry of BUILTIN_RESOURCES has one). */
export function strategyFor(r: ResourceInfo): Strategy {
  let s = cache.get(r);
  if (!s) {
    const f = byGroup[r.group]?.[r.resource] ?? genericStrategy;
    s = f(r);
    cache.set(r, s);
  }
  return s;
}

/**
 * Paths of fields in obj unknown to r's schema, e.g. "spec.template.spec.containers[0].imagePullPolic".
 * apiVersion, kind and metadata's own fields are known; free-form maps (labels, data) accept any key.
 */
export function unknownFields(r: ResourceInfo, obj: unknown): string[] {
  const schema = schemaForKind(apiVersionOf(r), r.kind);
  if (!schema) return [];
  return unknownFieldsBySchema(schema, obj);
}

/** unknownFields for a body that is not a resource of its own (pods/binding's Binding). */
export function unknownFieldsOfKind(apiVersion: string, kind: string, obj: unknown): string[] {
  const schema = schemaForKind(apiVersion, kind);
  return schema ? unknownFieldsBySchema(schema, obj) : [];
}

export const ALL_STRATEGIES = (): Strategy[] => BUILTIN_RESOURCES.map(strategyFor);

export { prepareNamespaceFinalize } from "./core.js";
export { podPrintStatus, validateBinding } from "./pod.js";
