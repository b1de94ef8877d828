// kubeling rollout status|history|undo|restart|pause|resume, after kubectl's rollout commands
// and their polymorphic helpers (objectpauser, objectresumer, objectrestarter, history,
// rollback, rollout_status): the same patches, the same lookups, the same words.

import { CONTROLLERREVISIONS, PODS, REPLICASETS, type ResourceInfo } from "#pkg/api/resources.js";
import { sameData, templatePatch } from "#pkg/api/template-patch.js";
import { metaTime } from "#pkg/api/time.js";
import type {
  ControllerRevision,
  DaemonSet,
  Deployment,
  Pod,
  PodTemplateSpec,
  ReplicaSet,
  StatefulSet,
} from "#pkg/api/types/index.js";
import { parseDuration } from "#pkg/runtime/duration.js";
import { deepEqual } from "../applypatch.js";
import type { CliContext } from "../context.js";
import { describePodTemplate } from "../describe/pod.js";
import { formatSelector } from "../describe/workloads.js";
import { PrefixWriter } from "../describe/writer.js";
import { CliError, formatError } from "../errors.js";
import { kindPrefix, parseTypeArgs, qualifiedResource, type TypeRequest } from "../resources.js";
import { GET_TABWRITER, TabWriter } from "../tabwriter.js";

export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
export const CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause";
export const RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt";
const POD_TEMPLATE_HASH = "pod-template-hash";

/** kubectl's GroupKind string: "Deployment.apps", "Pod". */
export function groupKind(r: ResourceInfo): string {
  return r.group ? `${r.kind}.${r.group}` : r.kind;
}

/** The objects named on the command line (TYPE NAME..., TYPE/NAME...), each with its resource. */
export function namedObjects(args: string[]): Array<{ r: ResourceInfo; name: string }> {
  if (args.length === 0) throw new CliError("error: required resource not specified");
  const out: Array<{ r: ResourceInfo; name: string }> = [];
  for (const req of parseTypeArgs(args)) {
    if (req.names.length === 0) throw new CliError("error: resource(s) were provided, but no name was specified");
    for (const name of req.names) out.push({ r: req.r, name });
  }
  return out;
}

function one(args: string[], what: string): TypeRequest & { name: string } {
  const objs = namedObjects(args);
  const first = objs[0];
  if (objs.length !== 1 || !first)
    throw new CliError(
      `error: ${what} is only supported on individual resources and resource collections - ${objs.length} resources were found`,
    );
  return { r: first.r, names: [first.name], name: first.name };
}

/** A patch to send, or kubectl's per-object error ("is already paused"). */
export type PatchOutcome = { patch: Record<string, unknown> } | { error: string };

const isDeployment = (r: ResourceInfo) => r.group === "apps" && r.resource === "deployments";

/** objectpauser: deployments only; pausing a paused one is an error. */
export function pausePatch(r: ResourceInfo, obj: Deployment): PatchOutcome {
  if (!isDeployment(r)) return { error: "pausing is not supported" };
  if (obj.spec?.paused) return { error: "is already paused" };
  return { patch: { spec: { paused: true } } };
}

/** objectresumer: deployments only; resuming one that is not paused is an error. */
export function resumePatch(r: ResourceInfo, obj: Deployment): PatchOutcome {
  if (!isDeployment(r)) return { error: "resuming is not supported" };
  if (!obj.spec?.paused) return { error: "is not paused" };
  // paused is omitempty upstream: false is the field removed.
  return { patch: { spec: { paused: null } } };
}

/** objectrestarter: a template annotation change on deployments, daemon sets and stateful sets. */
export function restartPatch(r: ResourceInfo, obj: Deployment, now: Date): PatchOutcome {
  const restartable = r.group === "apps" && ["deployments", "daemonsets", "statefulsets"].includes(r.resource);
  if (!restartable) return { error: "restarting is not supported" };
  if (isDeployment(r) && obj.spec?.paused)
    return { error: "can't restart paused deployment (run rollout resume first)" };
  if (obj.spec?.template?.metadata?.annotations?.[RESTARTED_AT_ANNOTATION] === metaTime(now)) return { patch: {} };
  return { patch: { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: metaTime(now) } } } } } };
}

/**
 * pause, resume and restart: compute each object's patch, send the non-empty ones as strategic
 * merge patches, print "<kind>/<name> <verb>" for each, and every per-object error at the end.
 */
async function patchEach(
  ctx: CliContext,
  args: string[],
  verb: string,
  compute: (r: ResourceInfo, obj: Deployment) => PatchOutcome,
  onEmpty: (name: string) => string | undefined,
): Promise<number> {
  const errors: string[] = [];
  for (const { r, name } of namedObjects(args)) {
    const ns = r.namespaced ? ctx.namespace : undefined;
    const obj = await ctx.client.get<Deployment>(r, ns, name);
    const outcome = compute(r, obj);
    if ("error" in outcome) {
      errors.push(`error: ${qualifiedResource(r)} ${JSON.stringify(name)} ${outcome.error}`);
      continue;
    }
    if (Object.keys(outcome.patch).length === 0) {
      const err = onEmpty(name);
      if (err) errors.push(err);
      continue;
    }
    try {
      await ctx.client.patch(r, ns, name, outcome.patch, "strategic", { fieldManager: "kubectl-rollout" });
    } catch (err) {
      errors.push(`failed to patch: ${formatError(err).replace(/^error: /, "")}`);
      continue;
    }
    ctx.print(`${kindPrefix(r)}/${name} ${verb}\n`);
  }
  for (const e of errors) ctx.printErr(`${e.startsWith("error: ") ? e : `error: ${e}`}\n`);
  return errors.length > 0 ? 1 : 0;
}

export const runRolloutPause = (ctx: CliContext, args: string[]) =>
  patchEach(ctx, args, "paused", pausePatch, () => undefined);

export const runRolloutResume = (ctx: CliContext, args: string[]) =>
  patchEach(ctx, args, "resumed", resumePatch, () => undefined);

export const runRolloutRestart = (ctx: CliContext, args: string[]) =>
  patchEach(
    ctx,
    args,
    "restarted",
    (r, obj) => restartPatch(r, obj, new Date()),
    (name) =>
      `failed to create patch for ${name}: if restart has already been triggered within the past second, please wait before attempting to trigger another`,
  );

// ---------------------------------------------------------------- status

export interface RolloutState {
  message: string;
  done: boolean;
}

/** kubectl's DeploymentStatusViewer (pods: for the Unschedulable / image-pull warning it appends). */
export function deploymentRolloutStatus(d: Deployment, pods: Pod[] = [], revision = 0): RolloutState {
  const name = d.metadata.name ?? "";
  const st = d.status ?? {};
  if (revision > 0) {
    const raw = d.metadata.annotations?.[REVISION_ANNOTATION];
    const current = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
    if (current === undefined)
      throw new CliError(
        `error: cannot get the revision of deployment ${JSON.stringify(name)}: strconv.ParseInt: parsing ${JSON.stringify(raw ?? "")}: invalid syntax`,
      );
    if (current !== revision)
      throw new CliError(`error: desired revision (${revision}) is different from the running revision (${current})`);
  }
  if ((d.metadata.generation ?? 0) > (st.observedGeneration ?? 0)) {
    return { message: withWarning("Waiting for deployment spec update to be observed...", pods), done: false };
  }
  const progressing = st.conditions?.find((c) => c.type === "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") {
    throw new CliError(`error: deployment "${name}" exceeded its progress deadline`);
  }
  const want = d.spec?.replicas;
  const updated = st.updatedReplicas ?? 0;
  const total = st.replicas ?? 0;
  const available = st.availableReplicas ?? 0;
  const waiting = (msg: string): RolloutState => ({
    message: withWarning(`Waiting for deployment "${name}" rollout to finish: ${msg}`, pods),
    done: false,
  });
  if (want !== undefined && updated < want)
    return waiting(`${updated} out of ${want} new replicas have been updated...`);
  if (total > updated) return waiting(`${total - updated} old replicas are pending termination...`);
  if (available < updated) return waiting(`${available} of ${updated} updated replicas are available...`);
  return { message: `deployment "${name}" successfully rolled out`, done: true };
}

const STUCK_REASONS = [
  "ImagePullBackOff",
  "ErrImagePull",
  "CrashLoopBackOff",
  "CreateContainerConfigError",
  "CreateContainerError",
];

/** The first pod that cannot be scheduled or started, as kubectl's appendWarning words it. */
function withWarning(message: string, pods: Pod[]): string {
  for (const p of pods) {
    const unschedulable = p.status?.conditions?.find(
      (c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable",
    );
    if (unschedulable) return `${message} (Warning: ${unschedulable.message ?? ""})`;
    for (const cs of p.status?.containerStatuses ?? []) {
      const reason = cs.state?.waiting?.reason;
      if (reason && STUCK_REASONS.includes(reason))
        return `${message} (Warning: ${reason} - ${cs.state?.waiting?.message ?? ""})`;
    }
  }
  return message;
}

/** kubectl's DaemonSetStatusViewer. */
export function daemonSetRolloutStatus(ds: DaemonSet): RolloutState {
  const name = ds.metadata.name ?? "";
  if ((ds.spec?.updateStrategy?.type ?? "RollingUpdate") !== "RollingUpdate")
    throw new CliError("error: rollout status is only available for RollingUpdate strategy type");
  const st = ds.status;
  if ((ds.metadata.generation ?? 0) > (st?.observedGeneration ?? 0))
    return { message: "Waiting for daemon set spec update to be observed...", done: false };
  const desired = st?.desiredNumberScheduled ?? 0;
  const updated = st?.updatedNumberScheduled ?? 0;
  const available = st?.numberAvailable ?? 0;
  if (updated < desired)
    return {
      message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`,
      done: false,
    };
  if (available < desired)
    return {
      message: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`,
      done: false,
    };
  return { message: `daemon set "${name}" successfully rolled out`, done: true };
}

/** kubectl's StatefulSetStatusViewer. */
export function statefulSetRolloutStatus(sts: StatefulSet): RolloutState {
  const strategy = sts.spec?.updateStrategy;
  if ((strategy?.type ?? "RollingUpdate") !== "RollingUpdate")
    throw new CliError("error: rollout status is only available for RollingUpdate strategy type");
  const st = sts.status;
  const observed = st?.observedGeneration ?? 0;
  if (observed === 0 || (sts.metadata.generation ?? 0) > observed)
    return { message: "Waiting for statefulset spec update to be observed...", done: false };
  const replicas = sts.spec?.replicas;
  const ready = st?.readyReplicas ?? 0;
  const updated = st?.updatedReplicas ?? 0;
  if (replicas !== undefined && ready < replicas)
    return { message: `Waiting for ${replicas - ready} pods to be ready...`, done: false };
  if (strategy?.rollingUpdate) {
    const partition = strategy.rollingUpdate.partition;
    if (replicas !== undefined && partition !== undefined && updated < replicas - partition)
      return {
        message: `Waiting for partitioned roll out to finish: ${updated} out of ${replicas - partition} new pods have been updated...`,
        done: false,
      };
    return { message: `partitioned roll out complete: ${updated} new pods have been updated...`, done: true };
  }
  if (st?.updateRevision !== st?.currentRevision)
    return {
      message: `waiting for statefulset rolling update to complete ${updated} pods at revision ${st?.updateRevision ?? ""}...`,
      done: false,
    };
  return {
    message: `statefulset rolling update complete ${st?.currentReplicas ?? 0} pods at revision ${st?.currentRevision ?? ""}...`,
    done: true,
  };
}

export async function runRolloutStatus(
  ctx: CliContext,
  args: string[],
  o: { timeout: string; watch: boolean | string; revision?: string },
): Promise<number> {
  const t = one(args, "rollout status");
  const kind = `${t.r.group}/${t.r.resource}`;
  // kubectl reads the object before it picks a status viewer: a missing one is NotFound first.
  await ctx.client.get(t.r, t.r.namespaced ? ctx.namespace : undefined, t.name);
  if (!["apps/deployments", "apps/daemonsets", "apps/statefulsets"].includes(kind))
    throw new CliError(`error: no status viewer has been implemented for ${groupKind(t.r)}`);
  const revision = o.revision === undefined ? 0 : Number(o.revision);
  if (!Number.isInteger(revision) || revision < 0)
    throw new CliError(`error: revision must be a positive integer: ${o.revision}`);
  const watch = o.watch !== false && o.watch !== "false";
  const ns = ctx.namespace;
  const timeoutMs = o.timeout && o.timeout !== "0" && o.timeout !== "0s" ? parseDuration(o.timeout) : 0;
  const signal = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
  let last = "";
  const status = async (obj: Deployment | DaemonSet | StatefulSet): Promise<RolloutState> => {
    if (kind === "apps/daemonsets") return daemonSetRolloutStatus(obj as DaemonSet);
    if (kind === "apps/statefulsets") return statefulSetRolloutStatus(obj as StatefulSet);
    const d = obj as Deployment;
    const sel = formatSelector(d.spec?.selector);
    let pods: Pod[] = [];
    try {
      if (sel !== "<none>") pods = (await ctx.client.list(PODS, d.metadata.namespace, { labelSelector: sel })).items;
    } catch {
      pods = [];
    }
    return deploymentRolloutStatus(d, pods, revision);
  };
  const show = async (obj: Deployment | DaemonSet | StatefulSet): Promise<boolean> => {
    const s = await status(obj);
    if (s.message !== last) ctx.print(`${s.message}\n`);
    last = s.message;
    return s.done;
  };
  for (;;) {
    const obj = await ctx.client.get<Deployment>(t.r, ns, t.name);
    if ((await show(obj)) || !watch) return 0;
    try {
      for await (const ev of ctx.client.watch<Deployment>(
        t.r,
        ns,
        { fieldSelector: `metadata.name=${t.name}`, resourceVersion: obj.metadata.resourceVersion ?? "0" },
        signal,
      )) {
        if (ev.type === "DELETED") throw new CliError("error: object has been deleted");
        if (ev.type !== "BOOKMARK" && (await show(ev.object))) return 0;
      }
    } catch (err) {
      if (err instanceof CliError) throw err;
      if (!signal?.aborted) continue; // an expired or dropped watch: start over
    }
    if (signal?.aborted) throw new CliError("error: timed out waiting for the condition");
  }
}

// ---------------------------------------------------------------- history and undo

/** deploymentutil.Revision: the revision annotation as an integer, undefined when missing or malformed. */
export function revisionOf(obj: { metadata: { annotations?: Record<string, string> } }): number | undefined {
  const raw = obj.metadata.annotations?.[REVISION_ANNOTATION];
  return raw !== undefined && /^-?\d+$/.test(raw) ? Number(raw) : undefined;
}

/** The ReplicaSets a Deployment controls (deploymentutil.GetAllReplicaSets): by selector and controllerRef. */
export async function ownedReplicaSets(ctx: CliContext, d: Deployment): Promise<ReplicaSet[]> {
  const sel = formatSelector(d.spec?.selector);
  if (sel === "<none>") return [];
  const list = await ctx.client.list(REPLICASETS, d.metadata.namespace, { labelSelector: sel });
  return list.items.filter((rs) => rs.metadata.ownerReferences?.some((o) => o.controller && o.uid === d.metadata.uid));
}

/**
 * kubectl's DeploymentHistoryViewer: "REVISION  CHANGE-CAUSE" rows, or with revision the pod
 * template of that revision (its change-cause copied into the template's annotations).
 */
export function deploymentHistory(rss: readonly ReplicaSet[], revision: number): string {
  const history = new Map<number, PodTemplateSpec>();
  for (const rs of rss) {
    const v = revisionOf(rs);
    if (v === undefined) continue;
    const template = structuredClone(rs.spec?.template ?? {}) as PodTemplateSpec;
    const cause = rs.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION];
    template.metadata ??= {};
    template.metadata.annotations ??= {};
    if (cause) template.metadata.annotations[CHANGE_CAUSE_ANNOTATION] = cause;
    history.set(v, template);
  }
  if (history.size === 0) return "No rollout history found.";
  if (revision > 0) {
    const template = history.get(revision);
    if (!template) throw new CliError("error: unable to find the specified revision");
    const w = new PrefixWriter({ raw: true });
    describePodTemplate(w, template);
    return w.toString();
  }
  const w = new TabWriter({ ...GET_TABWRITER, minWidth: 0, padding: 2, rememberWidths: false });
  w.write("REVISION\tCHANGE-CAUSE\n");
  for (const r of [...history.keys()].sort((a, b) => a - b)) {
    w.write(`${r}\t${history.get(r)?.metadata?.annotations?.[CHANGE_CAUSE_ANNOTATION] || "<none>"}\n`);
  }
  return w.flush();
}

export async function runRolloutHistory(ctx: CliContext, args: string[], o: { revision?: string }): Promise<number> {
  const t = historyArg(args, "rollout history", "history viewer");
  const revision = o.revision === undefined ? 0 : Number(o.revision);
  if (!Number.isInteger(revision) || revision < 0)
    throw new CliError(`error: revision must be a positive integer: ${o.revision}`);
  let text: string;
  if (isDeployment(t.r)) {
    const d = await ctx.client.get<Deployment>(t.r, ctx.namespace, t.name);
    text = deploymentHistory(await ownedReplicaSets(ctx, d), revision);
  } else {
    const { revisions } = await controlledRevisions(ctx, t.r, t.name);
    text = revisionHistory(revisions, revision);
  }
  const withRevision = revision > 0 ? `with revision #${revision}` : "";
  ctx.print(`${kindPrefix(t.r)}/${t.name} ${withRevision}\n${text}\n`);
  return 0;
}

// ---------------------------------------------------------------- daemon sets and stateful sets

const hasRevisions = (r: ResourceInfo) => r.group === "apps" && ["daemonsets", "statefulsets"].includes(r.resource);

/** deployments, daemon sets and stateful sets have history; anything else is kubectl's error. */
function historyArg(args: string[], what: string, noun: string): TypeRequest & { name: string } {
  const t = one(args, what);
  if (!isDeployment(t.r) && !hasRevisions(t.r))
    throw new CliError(`error: no ${noun} has been implemented for ${JSON.stringify(groupKind(t.r))}`);
  return t;
}

type WithTemplate = DaemonSet | StatefulSet;

/** daemonSetHistory / statefulSetHistory: the object and the ControllerRevisions it controls. */
export async function controlledRevisions(
  ctx: CliContext,
  r: ResourceInfo,
  name: string,
): Promise<{ obj: WithTemplate; revisions: ControllerRevision[] }> {
  const obj = await ctx.client.get<WithTemplate>(r, ctx.namespace, name);
  const sel = formatSelector(obj.spec?.selector);
  if (sel === "<none>") return { obj, revisions: [] };
  const list = await ctx.client.list(CONTROLLERREVISIONS, obj.metadata.namespace, { labelSelector: sel });
  const revisions = list.items.filter((cr) =>
    cr.metadata.ownerReferences?.some((o) => o.controller && o.uid === obj.metadata.uid),
  );
  return { obj, revisions };
}

/** applyDaemonSetHistory / applyRevision: the pod template a revision's patch puts back. */
export function revisionTemplate(cr: ControllerRevision): PodTemplateSpec {
  const data = cr.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const { $patch: _, ...template } = structuredClone(data?.spec?.template ?? {});
  return template as PodTemplateSpec;
}

/** kubectl's printHistory: "REVISION  CHANGE-CAUSE" rows, or the template of one revision. */
export function revisionHistory(revisions: readonly ControllerRevision[], revision: number): string {
  const byRevision = new Map<number, ControllerRevision>();
  for (const cr of revisions) byRevision.set(cr.revision ?? 0, cr);
  if (byRevision.size === 0) return "No rollout history found.";
  if (revision > 0) {
    const cr = byRevision.get(revision);
    if (!cr) throw new CliError("error: unable to find the specified revision");
    const w = new PrefixWriter({ raw: true });
    describePodTemplate(w, revisionTemplate(cr));
    return w.toString();
  }
  const w = new TabWriter({ ...GET_TABWRITER, minWidth: 0, padding: 2, rememberWidths: false });
  w.write("REVISION\tCHANGE-CAUSE\n");
  for (const r of [...byRevision.keys()].sort((a, b) => a - b)) {
    w.write(`${r}\t${byRevision.get(r)?.metadata.annotations?.[CHANGE_CAUSE_ANNOTATION] || "<none>"}\n`);
  }
  return w.flush();
}

/** findHistory: the revision numbered toRevision, or for 0 the one before the newest. */
export function findRevision(
  revisions: readonly ControllerRevision[],
  toRevision: number,
): ControllerRevision | undefined {
  if (toRevision === 0) {
    const sorted = [...revisions].sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
    return sorted[sorted.length - 2];
  }
  return revisions.find((cr) => cr.revision === toRevision);
}

/** DaemonSetRollbacker / StatefulSetRollbacker: the revision's own data sent as a strategic merge patch. */
async function undoWithRevisions(
  ctx: CliContext,
  t: TypeRequest & { name: string },
  toRevision: number,
  dryRun: "none" | "client" | "server",
): Promise<number> {
  const { obj, revisions } = await controlledRevisions(ctx, t.r, t.name);
  if (toRevision === 0 && revisions.length <= 1) throw new CliError("error: no last revision to roll back to");
  const target = findRevision(revisions, toRevision);
  if (!target) throw new CliError(`error: unable to find specified revision ${toRevision} in history`);
  const id = `${kindPrefix(t.r)}/${t.name}`;
  if (dryRun === "client") {
    const w = new PrefixWriter({ raw: true });
    describePodTemplate(w, revisionTemplate(target));
    ctx.print(`${id} ${w.toString()} (dry run)\n`);
    return 0;
  }
  if (sameData(templatePatch(obj), target.data)) {
    ctx.print(`${id} skipped rollback (current template already matches revision ${toRevision})\n`);
    return 0;
  }
  try {
    await ctx.client.patch(
      t.r,
      ctx.namespace,
      t.name,
      target.data,
      "strategic",
      dryRun === "server" ? { dryRun: true } : {},
    );
  } catch (err) {
    throw new CliError(`error: failed restoring revision ${toRevision}: ${formatError(err).replace(/^error: /, "")}`);
  }
  ctx.print(`${id} rolled back${dryRun === "server" ? " (server dry run)" : ""}\n`);
  return 0;
}

/** deploymentRevision: the ReplicaSet of toRevision, or for 0 the one with the second-highest revision. */
export function rollbackTarget(d: Deployment, rss: readonly ReplicaSet[], toRevision: number): ReplicaSet {
  if (toRevision < 0) throw new CliError(`error: unable to find specified revision ${toRevision} in history`);
  let latest: { rs: ReplicaSet; v: number } | undefined;
  let previous: { rs: ReplicaSet; v: number } | undefined;
  for (const rs of rss) {
    const v = revisionOf(rs);
    if (v === undefined) continue;
    if (toRevision > 0) {
      if (v === toRevision) return rs;
      continue;
    }
    if (!latest || latest.v < v) {
      previous = latest;
      latest = { rs, v };
    } else if (!previous || previous.v < v) {
      previous = { rs, v };
    }
  }
  if (toRevision > 0) throw new CliError(`error: unable to find specified revision ${toRevision} in history`);
  if (!previous)
    throw new CliError(`error: no rollout history found for deployment ${JSON.stringify(d.metadata.name)}`);
  return previous.rs;
}

/** Annotations a rollback keeps from the Deployment rather than copying from the ReplicaSet. */
const ANNOTATIONS_TO_SKIP = new Set([
  "kubectl.kubernetes.io/last-applied-configuration",
  REVISION_ANNOTATION,
  "deployment.kubernetes.io/revision-history",
  "deployment.kubernetes.io/desired-replicas",
  "deployment.kubernetes.io/max-replicas",
  "deprecated.deployment.rollback.to",
]);

/**
 * The template as kubectl's typed corev1.PodTemplateSpec serialises it, without pod-template-hash:
 * Go's struct fields that are never omitted (metadata.creationTimestamp as null, each
 * container's resources as {}) are there, so the patch and the comparison are kubectl's.
 */
function withoutHash(t: PodTemplateSpec | undefined): PodTemplateSpec {
  const copy = structuredClone(t ?? {}) as PodTemplateSpec;
  copy.metadata ??= {};
  if (copy.metadata.labels) {
    delete copy.metadata.labels[POD_TEMPLATE_HASH];
    if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  }
  (copy.metadata as { creationTimestamp?: string | null }).creationTimestamp ??= null;
  for (const c of [...(copy.spec?.initContainers ?? []), ...(copy.spec?.containers ?? [])]) c.resources ??= {};
  return copy;
}

/**
 * DeploymentRollbacker's patch: a JSON patch replacing spec.template with the ReplicaSet's (minus
 * pod-template-hash) and metadata.annotations with the ReplicaSet's (the Deployment's own
 * revision and bookkeeping annotations kept); undefined when the templates already agree.
 */
export function rollbackPatch(d: Deployment, rs: ReplicaSet): Array<Record<string, unknown>> | undefined {
  const template = withoutHash(rs.spec?.template as PodTemplateSpec | undefined);
  if (deepEqual(JSON.parse(JSON.stringify(template)), JSON.parse(JSON.stringify(withoutHash(d.spec?.template)))))
    return undefined;
  const annotations: Record<string, string> = {};
  for (const k of ANNOTATIONS_TO_SKIP) {
    const v = d.metadata.annotations?.[k];
    if (v !== undefined) annotations[k] = v;
  }
  for (const [k, v] of Object.entries(rs.metadata.annotations ?? {}))
    if (!ANNOTATIONS_TO_SKIP.has(k)) annotations[k] = v;
  return [
    { op: "replace", path: "/spec/template", value: template },
    { op: "replace", path: "/metadata/annotations", value: annotations },
  ];
}

/** kubectl rollout undo: client-side, a JSON patch putting an older ReplicaSet's template back. */
export async function runRolloutUndo(
  ctx: CliContext,
  args: string[],
  o: { toRevision?: string; dryRun?: string | boolean },
): Promise<number> {
  const t = historyArg(args, "rollout undo", "rollbacker");
  const toRevision = Number(o.toRevision ?? "0");
  if (!Number.isInteger(toRevision))
    throw new CliError(`error: invalid argument "${o.toRevision}" for "--to-revision"`);
  const dryRun = o.dryRun === true || o.dryRun === "client" ? "client" : o.dryRun === "server" ? "server" : "none";
  if (!isDeployment(t.r)) return undoWithRevisions(ctx, t, toRevision, dryRun);
  const d = await ctx.client.get<Deployment>(t.r, ctx.namespace, t.name);
  const target = rollbackTarget(d, await ownedReplicaSets(ctx, d), toRevision);
  const id = `${kindPrefix(t.r)}/${t.name}`;
  if (dryRun === "client") {
    const w = new PrefixWriter({ raw: true });
    describePodTemplate(w, target.spec?.template as PodTemplateSpec | undefined);
    ctx.print(`${id} ${w.toString()} (dry run)\n`);
    return 0;
  }
  if (d.spec?.paused)
    throw new CliError(
      "error: you cannot rollback a paused deployment; resume it first with 'kubeling rollout resume' and try again",
    );
  const patch = rollbackPatch(d, target);
  if (!patch) {
    ctx.print(`${id} skipped rollback (current template already matches revision ${toRevision})\n`);
    return 0;
  }
  try {
    await ctx.client.patch(t.r, ctx.namespace, t.name, patch, "json", dryRun === "server" ? { dryRun: true } : {});
  } catch (err) {
    throw new CliError(`error: failed restoring revision ${toRevision}: ${formatError(err).replace(/^error: /, "")}`);
  }
  ctx.print(`${id} rolled back${dryRun === "server" ? " (server dry run)" : ""}\n`);
  return 0;
}
