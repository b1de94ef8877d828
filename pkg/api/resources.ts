// The resource registry: every kind kubeling serves, described once. The API server builds
// its routes, discovery and OpenAPI from this table; clients use it to turn a kind or a
// short name into a URL. Adding a kind starts here. Code names a built-in resource by its typed
// constant (PODS, DEPLOYMENTS, ...); the string lookups are for what users type.

import type { KubeObject } from "./meta.js";
import type {
  ClusterRole,
  ClusterRoleBinding,
  ConfigMap,
  ControllerRevision,
  CronJob,
  DaemonSet,
  Deployment,
  EndpointSlice,
  Endpoints,
  Event,
  Job,
  Lease,
  LimitRange,
  LocalSubjectAccessReview,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodDisruptionBudget,
  PriorityClass,
  ReplicaSet,
  ReplicationController,
  ResourceQuota,
  Role,
  RoleBinding,
  Secret,
  SelfSubjectAccessReview,
  SelfSubjectReview,
  SelfSubjectRulesReview,
  Service,
  ServiceAccount,
  StatefulSet,
  StorageClass,
  SubjectAccessReview,
  TokenReview,
} from "./types/index.js";

export interface Subresource {
  name: string;
  /** The kind the subresource speaks, e.g. autoscaling/v1 Scale for "scale". */
  kind: { group: string; version: string; kind: string };
  verbs: string[];
}

export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** Plural, lower case: the URL segment. */
  resource: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  subresources: Subresource[];
}

const ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

function sub(name: string, group: string, version: string, kind: string, verbs: string[]): Subresource {
  return { name, kind: { group, version, kind }, verbs };
}
const statusSub = (group: string, version: string, kind: string) =>
  sub("status", group, version, kind, ["get", "patch", "update"]);
const scaleSub = () => sub("scale", "autoscaling", "v1", "Scale", ["get", "patch", "update"]);

function resource(
  group: string,
  version: string,
  kind: string,
  resourceName: string,
  opts: Partial<Pick<ResourceInfo, "namespaced" | "shortNames" | "categories" | "verbs" | "subresources">> = {},
): ResourceInfo {
  return {
    group,
    version,
    kind,
    listKind: `${kind}List`,
    resource: resourceName,
    singular: kind.toLowerCase(),
    namespaced: opts.namespaced ?? true,
    shortNames: opts.shortNames ?? [],
    categories: opts.categories ?? [],
    verbs: opts.verbs ?? ALL_VERBS,
    subresources: opts.subresources ?? [],
  };
}

/**
 * A ResourceInfo that knows the TypeScript type of its objects, so `client.get(PODS, ns, name)`
 * is a Promise<Pod> without a cast. The type lives only in the compiler (a phantom field).
 */
export interface ResourceType<T extends KubeObject = KubeObject> extends ResourceInfo {
  readonly [objectType]?: T;
}
declare const objectType: unique symbol;

function typed<T extends KubeObject>(info: ResourceInfo): ResourceType<T> {
  return info;
}

export const PODS = typed<Pod>(
  resource("", "v1", "Pod", "pods", {
    shortNames: ["po"],
    categories: ["all"],
    subresources: [
      statusSub("", "v1", "Pod"),
      sub("binding", "", "v1", "Binding", ["create"]),
      sub("eviction", "policy", "v1", "Eviction", ["create"]),
      sub("log", "", "v1", "Pod", ["get"]),
      sub("exec", "", "v1", "PodExecOptions", ["create", "get"]),
      sub("attach", "", "v1", "PodAttachOptions", ["create", "get"]),
      sub("ephemeralcontainers", "", "v1", "Pod", ["get", "patch", "update"]),
      sub("portforward", "", "v1", "PodPortForwardOptions", ["create", "get"]),
    ],
  }),
);
export const REPLICATIONCONTROLLERS = typed<ReplicationController>(
  resource("", "v1", "ReplicationController", "replicationcontrollers", {
    shortNames: ["rc"],
    categories: ["all"],
    subresources: [statusSub("", "v1", "ReplicationController"), scaleSub()],
  }),
);
export const SERVICES = typed<Service>(
  resource("", "v1", "Service", "services", {
    shortNames: ["svc"],
    categories: ["all"],
    subresources: [statusSub("", "v1", "Service")],
  }),
);
export const ENDPOINTS = typed<Endpoints>(resource("", "v1", "Endpoints", "endpoints", { shortNames: ["ep"] }));
export const NAMESPACES = typed<Namespace>(
  resource("", "v1", "Namespace", "namespaces", {
    namespaced: false,
    shortNames: ["ns"],
    verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
    subresources: [statusSub("", "v1", "Namespace"), sub("finalize", "", "v1", "Namespace", ["update"])],
  }),
);
export const NODES = typed<Node>(
  resource("", "v1", "Node", "nodes", {
    namespaced: false,
    shortNames: ["no"],
    subresources: [statusSub("", "v1", "Node")],
  }),
);
export const CONFIGMAPS = typed<ConfigMap>(resource("", "v1", "ConfigMap", "configmaps", { shortNames: ["cm"] }));
export const SECRETS = typed<Secret>(resource("", "v1", "Secret", "secrets"));
export const EVENTS = typed<Event>(resource("", "v1", "Event", "events", { shortNames: ["ev"] }));
export const SERVICEACCOUNTS = typed<ServiceAccount>(
  resource("", "v1", "ServiceAccount", "serviceaccounts", {
    shortNames: ["sa"],
    // TokenRequest: a signed token for the ServiceAccount (apiserver/registry/core/serviceaccount/token.ts).
    subresources: [sub("token", "authentication.k8s.io", "v1", "TokenRequest", ["create"])],
  }),
);
export const RESOURCEQUOTAS = typed<ResourceQuota>(
  resource("", "v1", "ResourceQuota", "resourcequotas", {
    shortNames: ["quota"],
    subresources: [statusSub("", "v1", "ResourceQuota")],
  }),
);
export const LIMITRANGES = typed<LimitRange>(
  resource("", "v1", "LimitRange", "limitranges", { shortNames: ["limits"] }),
);
export const PERSISTENTVOLUMES = typed<PersistentVolume>(
  resource("", "v1", "PersistentVolume", "persistentvolumes", {
    namespaced: false,
    shortNames: ["pv"],
    subresources: [statusSub("", "v1", "PersistentVolume")],
  }),
);
export const PERSISTENTVOLUMECLAIMS = typed<PersistentVolumeClaim>(
  resource("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", {
    shortNames: ["pvc"],
    subresources: [statusSub("", "v1", "PersistentVolumeClaim")],
  }),
);
export const DEPLOYMENTS = typed<Deployment>(
  resource("apps", "v1", "Deployment", "deployments", {
    shortNames: ["deploy"],
    categories: ["all"],
    subresources: [statusSub("apps", "v1", "Deployment"), scaleSub()],
  }),
);
export const REPLICASETS = typed<ReplicaSet>(
  resource("apps", "v1", "ReplicaSet", "replicasets", {
    shortNames: ["rs"],
    categories: ["all"],
    subresources: [statusSub("apps", "v1", "ReplicaSet"), scaleSub()],
  }),
);
export const STATEFULSETS = typed<StatefulSet>(
  resource("apps", "v1", "StatefulSet", "statefulsets", {
    shortNames: ["sts"],
    categories: ["all"],
    subresources: [statusSub("apps", "v1", "StatefulSet"), scaleSub()],
  }),
);
export const DAEMONSETS = typed<DaemonSet>(
  resource("apps", "v1", "DaemonSet", "daemonsets", {
    shortNames: ["ds"],
    categories: ["all"],
    subresources: [statusSub("apps", "v1", "DaemonSet")],
  }),
);
export const CONTROLLERREVISIONS = typed<ControllerRevision>(
  resource("apps", "v1", "ControllerRevision", "controllerrevisions"),
);
export const JOBS = typed<Job>(
  resource("batch", "v1", "Job", "jobs", {
    categories: ["all"],
    subresources: [statusSub("batch", "v1", "Job")],
  }),
);
export const CRONJOBS = typed<CronJob>(
  resource("batch", "v1", "CronJob", "cronjobs", {
    shortNames: ["cj"],
    categories: ["all"],
    subresources: [statusSub("batch", "v1", "CronJob")],
  }),
);
export const PODDISRUPTIONBUDGETS = typed<PodDisruptionBudget>(
  resource("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", {
    shortNames: ["pdb"],
    subresources: [statusSub("policy", "v1", "PodDisruptionBudget")],
  }),
);
export const LEASES = typed<Lease>(resource("coordination.k8s.io", "v1", "Lease", "leases"));
export const ENDPOINTSLICES = typed<EndpointSlice>(
  resource("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
);

export const STORAGECLASSES = typed<StorageClass>(
  resource("storage.k8s.io", "v1", "StorageClass", "storageclasses", { namespaced: false, shortNames: ["sc"] }),
);

export const PRIORITYCLASSES = typed<PriorityClass>(
  resource("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", { namespaced: false, shortNames: ["pc"] }),
);

const RBAC = "rbac.authorization.k8s.io";
export const CLUSTERROLEBINDINGS = typed<ClusterRoleBinding>(
  resource(RBAC, "v1", "ClusterRoleBinding", "clusterrolebindings", { namespaced: false }),
);
export const CLUSTERROLES = typed<ClusterRole>(
  resource(RBAC, "v1", "ClusterRole", "clusterroles", { namespaced: false }),
);
export const ROLEBINDINGS = typed<RoleBinding>(resource(RBAC, "v1", "RoleBinding", "rolebindings"));
export const ROLES = typed<Role>(resource(RBAC, "v1", "Role", "roles"));

// Create-only resources: questions answered at once and never stored (isCreateOnly).
const CREATE_ONLY = { verbs: ["create"] };
export const SELFSUBJECTREVIEWS = typed<SelfSubjectReview>(
  resource("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", {
    namespaced: false,
    ...CREATE_ONLY,
  }),
);
export const TOKENREVIEWS = typed<TokenReview>(
  resource("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", { namespaced: false, ...CREATE_ONLY }),
);
export const LOCALSUBJECTACCESSREVIEWS = typed<LocalSubjectAccessReview>(
  resource("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", CREATE_ONLY),
);
export const SELFSUBJECTACCESSREVIEWS = typed<SelfSubjectAccessReview>(
  resource("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", {
    namespaced: false,
    ...CREATE_ONLY,
  }),
);
export const SELFSUBJECTRULESREVIEWS = typed<SelfSubjectRulesReview>(
  resource("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", {
    namespaced: false,
    ...CREATE_ONLY,
  }),
);
export const SUBJECTACCESSREVIEWS = typed<SubjectAccessReview>(
  resource("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", {
    namespaced: false,
    ...CREATE_ONLY,
  }),
);

/** Built-in resources, in discovery order (kubectl's `get all` follows this order). */
export const BUILTIN_RESOURCES: readonly ResourceInfo[] = [
  PODS,
  REPLICATIONCONTROLLERS,
  SERVICES,
  ENDPOINTS,
  NAMESPACES,
  NODES,
  CONFIGMAPS,
  SECRETS,
  EVENTS,
  SERVICEACCOUNTS,
  RESOURCEQUOTAS,
  LIMITRANGES,
  PERSISTENTVOLUMES,
  PERSISTENTVOLUMECLAIMS,
  DEPLOYMENTS,
  REPLICASETS,
  STATEFULSETS,
  DAEMONSETS,
  CONTROLLERREVISIONS,
  SELFSUBJECTREVIEWS,
  TOKENREVIEWS,
  LOCALSUBJECTACCESSREVIEWS,
  SELFSUBJECTACCESSREVIEWS,
  SELFSUBJECTRULESREVIEWS,
  SUBJECTACCESSREVIEWS,
  JOBS,
  CRONJOBS,
  PODDISRUPTIONBUDGETS,
  CLUSTERROLEBINDINGS,
  CLUSTERROLES,
  ROLEBINDINGS,
  ROLES,
  LEASES,
  ENDPOINTSLICES,
  STORAGECLASSES,
  PRIORITYCLASSES,
];

/**
 * A resource that only answers creates (the access reviews, SelfSubjectReview): nothing is
 * stored, so it has no store, no watch cache and no object paths.
 */
export function isCreateOnly(r: Pick<ResourceInfo, "verbs">): boolean {
  return !r.verbs.includes("get");
}

/** The resources kept in storage (every built-in but the create-only ones). */
export const STORED_RESOURCES: readonly ResourceInfo[] = BUILTIN_RESOURCES.filter((r) => !isCreateOnly(r));

export function apiVersionOf(r: Pick<ResourceInfo, "group" | "version">): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0
    ? { group: "", version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** Lookups over a set of resources: by kind, by any name a user may type. */
export class ResourceRegistry {
  readonly all: readonly ResourceInfo[];

  constructor(resources: readonly ResourceInfo[] = BUILTIN_RESOURCES) {
    this.all = resources;
  }

  byGroupResource(group: string, resourceName: string): ResourceInfo | undefined {
    return this.all.find((r) => r.group === group && r.resource === resourceName);
  }

  byKind(apiVersion: string, kind: string): ResourceInfo | undefined {
    const { group, version } = splitApiVersion(apiVersion);
    return this.all.find((r) => r.group === group && r.version === version && r.kind === kind);
  }

  /**
   * What a user typed on a command line: "po", "pods", "pod", "Pod", "deployments.apps",
   * "deploy.apps", "deployment.v1.apps".
   */
  lookup(name: string): ResourceInfo | undefined {
    const lower = name.toLowerCase();
    const [base = "", ...rest] = lower.split(".");
    const qualifier = rest.join(".");
    return this.all.find((r) => {
      const names = [r.resource, r.singular, r.kind.toLowerCase(), ...r.shortNames];
      if (!names.includes(base)) return false;
      if (!qualifier) return true;
      return (
        qualifier === r.group || qualifier === `${r.version}.${r.group}` || (r.group === "" && qualifier === r.version)
      );
    });
  }

  /** lookup for names the program itself uses: a miss is a programming error, not user input. */
  mustLookup(name: string): ResourceInfo {
    const r = this.lookup(name);
    if (!r) throw new Error(`${name} missing from the resource registry`);
    return r;
  }

  category(category: string): ResourceInfo[] {
    return this.all.filter((r) => r.categories.includes(category));
  }
}

export const registry = new ResourceRegistry();

/** URL path of a collection or an object (namespace ignored for cluster-scoped resources). */
export function resourcePath(r: ResourceInfo, namespace?: string, name?: string, subresource?: string): string {
  let path = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  if (r.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
  path += `/${r.resource}`;
  if (name !== undefined) path += `/${encodeURIComponent(name)}`;
  if (subresource) path += `/${subresource}`;
  return path;
}
