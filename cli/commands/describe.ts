// kubeling describe TYPE [NAME...] | TYPE/NAME: a readable report of each object followed by
// its Events, like kubectl's describers. Names that match no object exactly are taken as
// prefixes, as kubectl does.

import { isNotFound } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { ENDPOINTS, ENDPOINTSLICES, LEASES, PODS, REPLICASETS, type ResourceInfo } from "#pkg/api/resources.js";
import type { CronJob, Job } from "#pkg/api/types/batch.js";
import type {
  ConfigMap,
  DaemonSet,
  Deployment,
  Lease,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodDisruptionBudget,
  PriorityClass,
  ReplicaSet,
  ReplicationController,
  Secret,
  Service,
  StatefulSet,
  StorageClass,
} from "#pkg/api/types/index.js";
import type { CliContext } from "../context.js";
import { describeCronJob, describeJob } from "../describe/batch.js";
import { describeEvents, eventsFor } from "../describe/events.js";
import { describeGeneric } from "../describe/generic.js";
import { describeConfigMap, describeNamespace, describeSecret, describeService } from "../describe/misc.js";
import { describeNode } from "../describe/node.js";
import { describePod } from "../describe/pod.js";
import { describePodDisruptionBudget } from "../describe/policy.js";
import { describePriorityClass } from "../describe/scheduling.js";
import { describeDaemonSet, describeStatefulSet } from "../describe/sets.js";
import {
  describePersistentVolume,
  describePersistentVolumeClaim,
  describeStorageClass,
  podsForClaim,
} from "../describe/storage.js";
import {
  describeDeployment,
  describeReplicaSet,
  describeReplicationController,
  formatSelector,
} from "../describe/workloads.js";
import { PrefixWriter } from "../describe/writer.js";
import { formatError } from "../errors.js";
import { labelsString } from "../format.js";
import { resolveType } from "../resources.js";

/**
 * The pods a controller owns (kubectl's getPodStatusForController): listed by its selector, kept
 * when their controller reference is the owner; none when the list fails.
 */
async function controlledPods(ctx: CliContext, owner: KubeObject, selector: string): Promise<Pod[]> {
  if (selector === "<none>") return [];
  try {
    const pods = await ctx.client.list(PODS, owner.metadata.namespace, { labelSelector: selector });
    return pods.items.filter((p) =>
      p.metadata.ownerReferences?.some((o) => o.controller && o.uid === owner.metadata.uid),
    );
  } catch {
    return [];
  }
}

/** The full description of one object, as text. */
export async function describeObject(ctx: CliContext, r: ResourceInfo, obj: KubeObject): Promise<string> {
  const w = new PrefixWriter();
  const client = ctx.client;
  const ns = obj.metadata.namespace;
  switch (`${r.group}/${r.resource}`) {
    case "/pods":
      describePod(w, obj as Pod);
      break;
    case "/nodes": {
      const name = obj.metadata.name ?? "";
      let pods: Pod[] | undefined;
      try {
        pods = (
          await client.list(PODS, undefined, {
            fieldSelector: `spec.nodeName=${name},status.phase!=Succeeded,status.phase!=Failed`,
          })
        ).items;
      } catch {
        pods = undefined;
      }
      let lease: Lease | string | undefined;
      try {
        lease = await client.get(LEASES, "kube-node-lease", name);
      } catch (err) {
        lease = err instanceof Error ? err.message : String(err);
      }
      describeNode(w, obj as Node, pods, lease);
      break;
    }
    case "apps/deployments": {
      const d = obj as Deployment;
      let rss: ReplicaSet[] = [];
      try {
        const sel = formatSelector(d.spec?.selector);
        rss = (await client.list(REPLICASETS, ns, sel !== "<none>" ? { labelSelector: sel } : {})).items;
      } catch {
        rss = [];
      }
      describeDeployment(w, d, rss);
      break;
    }
    case "apps/daemonsets": {
      const ds = obj as DaemonSet;
      describeDaemonSet(w, ds, await controlledPods(ctx, ds, formatSelector(ds.spec?.selector)));
      break;
    }
    case "apps/statefulsets": {
      const sts = obj as StatefulSet;
      describeStatefulSet(w, sts, await controlledPods(ctx, sts, formatSelector(sts.spec?.selector)));
      break;
    }
    case "apps/replicasets": {
      const rs = obj as ReplicaSet;
      describeReplicaSet(w, rs, await controlledPods(ctx, rs, formatSelector(rs.spec?.selector)));
      break;
    }
    case "/replicationcontrollers": {
      const rc = obj as ReplicationController;
      describeReplicationController(w, rc, await controlledPods(ctx, rc, labelsString(rc.spec?.selector)));
      break;
    }
    case "batch/jobs":
      describeJob(w, obj as Job);
      break;
    case "batch/cronjobs":
      describeCronJob(w, obj as CronJob);
      break;
    case "/configmaps":
      describeConfigMap(w, obj as ConfigMap);
      break;
    case "policy/poddisruptionbudgets":
      describePodDisruptionBudget(w, obj as PodDisruptionBudget);
      break;
    case "/secrets":
      describeSecret(w, obj as Secret);
      break;
    case "/namespaces":
      describeNamespace(w, obj as Namespace);
      break;
    case "/persistentvolumes":
      describePersistentVolume(w, obj as PersistentVolume);
      break;
    case "/persistentvolumeclaims": {
      // kubectl's getPodsForPVC lists the namespace's pods; a failed list fails the describe.
      const pods = (await client.list(PODS, ns)).items;
      describePersistentVolumeClaim(w, obj as PersistentVolumeClaim, podsForClaim(pods, obj as PersistentVolumeClaim));
      break;
    }
    case "storage.k8s.io/storageclasses":
      describeStorageClass(w, obj as StorageClass);
      break;
    case "scheduling.k8s.io/priorityclasses":
      describePriorityClass(w, obj as PriorityClass);
      break;
    case "/services": {
      // kubectl 1.3x reads the Service's EndpointSlices, and Endpoints where slices are not served.
      const name = obj.metadata.name ?? "";
      try {
        const slices = await client.list(ENDPOINTSLICES, ns, { labelSelector: `kubernetes.io/service-name=${name}` });
        describeService(w, obj as Service, { slices: slices.items });
      } catch {
        const eps = await client.get(ENDPOINTS, ns, name).catch(() => undefined);
        describeService(w, obj as Service, { endpoints: eps });
      }
      break;
    }
    default:
      describeGeneric(w, obj);
  }
  // kubectl's namespace describer has no Events section.
  if (r.resource !== "events" && r.resource !== "namespaces") describeEvents(w, await eventsFor(client, obj, r.kind));
  return w.toString();
}

export async function runDescribe(ctx: CliContext, type: string, names: string[]): Promise<number> {
  let r: ResourceInfo;
  let wanted = names;
  const slash = type.indexOf("/");
  if (slash > 0) {
    r = resolveType(type.slice(0, slash));
    wanted = [type.slice(slash + 1), ...names];
  } else {
    r = resolveType(type);
  }
  const ns = r.namespaced ? (ctx.opts.allNamespaces && wanted.length === 0 ? undefined : ctx.namespace) : undefined;
  const objects: KubeObject[] = [];
  let failed = false;
  if (wanted.length === 0) {
    const list = await ctx.client.list(r, ns, {
      ...(ctx.opts.selector ? { labelSelector: ctx.opts.selector } : {}),
      ...(ctx.opts.fieldSelector ? { fieldSelector: ctx.opts.fieldSelector } : {}),
    });
    objects.push(...list.items);
    if (objects.length === 0) {
      ctx.printErr(ns ? `No resources found in ${ns} namespace.\n` : "No resources found\n");
      return 0;
    }
  } else {
    for (const name of wanted) {
      try {
        objects.push(await ctx.client.get(r, ns, name));
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // kubectl falls back to a prefix match over the list.
        const list = await ctx.client.list(r, ns);
        const matches = list.items.filter((o) => (o.metadata.name ?? "").startsWith(name));
        if (matches.length === 0) {
          failed = true;
          ctx.printErr(`${formatError(err)}\n`);
        }
        objects.push(...matches);
      }
    }
  }
  let first = true;
  for (const obj of objects) {
    const text = await describeObject(ctx, r, {
      ...obj,
      metadata: { ...obj.metadata, namespace: obj.metadata.namespace ?? (r.namespaced ? ns : undefined) },
    });
    ctx.print(first ? text : `\n\n${text}`);
    first = false;
  }
  return failed ? 1 : 0;
}
