// Which lists merge and by which key, per built-in kind: the patchMergeKey / patchStrategy /
// listType struct tags of upstream's k8s.io/api types, reduced to what kubeling serves.
// Strategic merge patch and server-side apply both read this. Lists not described here are
// atomic (replaced whole), as upstream does for lists without a merge strategy — tolerations
// and taints included (both `+listType=atomic` upstream).

export interface FieldSchema {
  /** Struct fields whose own schema matters. Unlisted fields: maps merge, lists are atomic. */
  fields?: Record<string, FieldSchema>;
  /** A list of objects merged by this key (patchStrategy=merge, patchMergeKey=...). */
  mergeKey?: string;
  /**
   * Server-side apply's keys for the same list when they differ from mergeKey
   * (listMapKeys: ports are keyed by port and protocol).
   */
  mapKeys?: string[];
  /** A list of scalars merged as a set (patchStrategy=merge on []string, listType=set). */
  set?: boolean;
  /** Schema of each element of a keyed list. */
  items?: FieldSchema;
  /** A struct replaced whole by server-side apply (structType=atomic, e.g. LabelSelector). */
  atomic?: boolean;
}

const objectMeta: FieldSchema = {
  fields: { ownerReferences: { mergeKey: "uid" }, finalizers: { set: true } },
};

const container: FieldSchema = {
  fields: {
    ports: { mergeKey: "containerPort", mapKeys: ["containerPort", "protocol"] },
    env: { mergeKey: "name" },
    volumeMounts: { mergeKey: "mountPath" },
    volumeDevices: { mergeKey: "devicePath" },
  },
};

const podSpec: FieldSchema = {
  fields: {
    containers: { mergeKey: "name", items: container },
    initContainers: { mergeKey: "name", items: container },
    ephemeralContainers: { mergeKey: "name", items: container },
    volumes: { mergeKey: "name" },
    imagePullSecrets: { mergeKey: "name" },
    hostAliases: { mergeKey: "ip" },
    topologySpreadConstraints: { mergeKey: "topologyKey" },
    schedulingGates: { mergeKey: "name" },
    resourceClaims: { mergeKey: "name" },
  },
};

const podTemplate: FieldSchema = { fields: { metadata: objectMeta, spec: podSpec } };
const selector: FieldSchema = { atomic: true };
const conditionsStatus: FieldSchema = { fields: { conditions: { mergeKey: "type" } } };

function kind(fields: Record<string, FieldSchema>): FieldSchema {
  return { fields: { metadata: objectMeta, ...fields } };
}

const workload = (extra: Record<string, FieldSchema> = {}): FieldSchema =>
  kind({ spec: { fields: { selector, template: podTemplate, ...extra } }, status: conditionsStatus });

/** Schemas keyed by "group/Kind" ("" group for core). */
const KINDS: Record<string, FieldSchema> = {
  "/Pod": kind({
    spec: podSpec,
    status: {
      fields: { conditions: { mergeKey: "type" }, podIPs: { mergeKey: "ip" }, hostIPs: { mergeKey: "ip" } },
    },
  }),
  "/PodTemplate": kind({ template: podTemplate }),
  "/ReplicationController": kind({ spec: { fields: { template: podTemplate } }, status: conditionsStatus }),
  "/Service": kind({
    spec: { fields: { ports: { mergeKey: "port", mapKeys: ["port", "protocol"] } } },
    status: conditionsStatus,
  }),
  "/Node": kind({
    spec: { fields: { podCIDRs: { set: true } } },
    status: { fields: { conditions: { mergeKey: "type" }, addresses: { mergeKey: "type" } } },
  }),
  "/Namespace": kind({ status: conditionsStatus }),
  "apps/Deployment": workload(),
  "apps/ReplicaSet": workload(),
  "apps/DaemonSet": workload(),
  "apps/StatefulSet": workload(),
  "batch/Job": workload(),
  "batch/CronJob": kind({
    spec: {
      fields: {
        jobTemplate: { fields: { metadata: objectMeta, spec: { fields: { selector, template: podTemplate } } } },
      },
    },
  }),
};

const GENERIC: FieldSchema = kind({});

/** Values list-map keys take when an item omits them (the API defaults them the same way). */
export const MAP_KEY_DEFAULTS: Readonly<Record<string, unknown>> = { protocol: "TCP" };

/** The schema of a kind by API group ("" for core); unknown kinds get metadata rules only. */
export function schemaFor(group: string, kindName: string): FieldSchema {
  return KINDS[`${group}/${kindName}`] ?? GENERIC;
}

/** Schema at a dotted path within a kind, e.g. "spec.template.spec.containers" (for tests and callers). */
export function schemaAt(root: FieldSchema, path: string): FieldSchema | undefined {
  let s: FieldSchema | undefined = root;
  for (const part of path.split(".")) {
    if (!s) return undefined;
    s = s.fields?.[part] ?? s.items?.fields?.[part];
  }
  return s;
}

/** The child schema of a field. */
export function child(s: FieldSchema | undefined, field: string): FieldSchema | undefined {
  return s?.fields?.[field];
}
