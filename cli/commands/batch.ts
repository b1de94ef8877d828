// kubectl create job and create cronjob (pkg/cmd/create/create_job.go, create_cronjob.go): the
// objects kubectl builds, shaped as its typed structs serialise (creationTimestamp null, empty
// resources and status), and `create job --from=cronjob/NAME`, a Job from a CronJob's template
// marked cronjob.kubernetes.io/instantiate=manual and owned by the CronJob.

import { StatusError } from "#pkg/api/errors.js";
import type { KubeObject } from "#pkg/api/meta.js";
import { CRONJOBS, JOBS } from "#pkg/api/resources.js";
import type { CronJob } from "#pkg/api/types/batch.js";
import type { CliContext } from "../context.js";
import { CliError } from "../errors.js";
import { resolveType } from "../resources.js";
import { createAndReport, parseDryRun } from "./dryrun.js";

export interface CreateJobOptions {
  image?: string;
  from?: string;
  dryRun?: string | boolean;
}

export interface CreateCronJobOptions {
  image?: string;
  schedule?: string;
  restart?: string;
  dryRun?: string | boolean;
}

const container = (name: string, image: string, command: string[]) => ({
  name,
  image,
  ...(command.length > 0 ? { command } : {}),
  resources: {},
});

/** The Job `kubectl create job NAME --image=IMG -- CMD...` sends. */
export function jobFor(name: string, image: string, command: string[]): KubeObject {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { creationTimestamp: null, name },
    spec: {
      template: {
        metadata: { creationTimestamp: null },
        spec: { containers: [container(name, image, command)], restartPolicy: "Never" },
      },
    },
    status: {},
  } as unknown as KubeObject;
}

/** The Job `kubectl create job NAME --from=cronjob/CJ` sends (kubectl's createJobFromCronJob). */
export function jobFromCronJob(name: string, cj: CronJob): KubeObject {
  const tmpl = cj.spec?.jobTemplate;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      creationTimestamp: null,
      ...(tmpl?.metadata?.labels ? { labels: { ...tmpl.metadata.labels } } : {}),
      annotations: { "cronjob.kubernetes.io/instantiate": "manual", ...(tmpl?.metadata?.annotations ?? {}) },
      // Not a NewControllerRef: no blockOwnerDeletion, which would need cronjobs/finalizers.
      ownerReferences: [
        {
          apiVersion: "batch/v1",
          kind: "CronJob",
          name: cj.metadata.name ?? "",
          uid: cj.metadata.uid ?? "",
          controller: true,
        },
      ],
    },
    spec: structuredClone(tmpl?.spec ?? {}),
    status: {},
  } as unknown as KubeObject;
}

/** The CronJob `kubectl create cronjob NAME --image=IMG --schedule=S -- CMD...` sends. */
export function cronJobFor(
  name: string,
  o: { image: string; schedule: string; restart: string },
  command: string[],
): KubeObject {
  return {
    apiVersion: "batch/v1",
    kind: "CronJob",
    metadata: { creationTimestamp: null, name },
    spec: {
      jobTemplate: {
        metadata: { creationTimestamp: null, name },
        spec: {
          template: {
            metadata: { creationTimestamp: null },
            spec: { containers: [container(name, o.image, command)], restartPolicy: o.restart },
          },
        },
      },
      schedule: o.schedule,
    },
    status: {},
  } as unknown as KubeObject;
}

function wrapError(kind: string, err: unknown): never {
  // kubectl wraps the server's answer; an Invalid one keeps its own report.
  if (err instanceof StatusError && err.reason !== "Invalid")
    throw new CliError(`error: failed to create ${kind}: ${err.message}`);
  throw err;
}

export async function runCreateJob(
  ctx: CliContext,
  name: string,
  o: CreateJobOptions,
  command: string[] = [],
): Promise<number> {
  const image = o.image ?? "";
  const from = o.from ?? "";
  if ((image === "" && from === "") || (image !== "" && from !== "")) {
    throw new CliError("error: either --image or --from must be specified");
  }
  if (command.length > 0 && from !== "") throw new CliError("error: cannot specify --from and command");
  let body: KubeObject;
  if (from !== "") {
    const slash = from.indexOf("/");
    if (slash <= 0 || slash === from.length - 1) throw new CliError("error: from must be in format <type>/<name>");
    const r = resolveType(from.slice(0, slash));
    // kubectl names the Go type it got ("%T").
    if (r.group !== "batch" || r.resource !== "cronjobs")
      throw new CliError(`error: unknown object type *${r.version}.${r.kind}`);
    const cj = await ctx.client.get(CRONJOBS, ctx.namespace, from.slice(slash + 1));
    body = jobFromCronJob(name, cj);
  } else {
    body = jobFor(name, image, command);
  }
  try {
    await createAndReport(ctx, JOBS, ctx.namespace, body, {
      fieldManager: "kubectl-create",
      dryRun: parseDryRun(o.dryRun),
    });
  } catch (err) {
    wrapError("job", err);
  }
  return 0;
}

export async function runCreateCronJob(
  ctx: CliContext,
  name: string,
  o: CreateCronJobOptions,
  command: string[] = [],
): Promise<number> {
  if (!o.image) throw new CliError("error: --image must be specified");
  if (!o.schedule) throw new CliError("error: --schedule must be specified");
  const body = cronJobFor(name, { image: o.image, schedule: o.schedule, restart: o.restart ?? "OnFailure" }, command);
  try {
    await createAndReport(ctx, CRONJOBS, ctx.namespace, body, {
      fieldManager: "kubectl-create",
      dryRun: parseDryRun(o.dryRun),
    });
  } catch (err) {
    wrapError("cronjob", err);
  }
  return 0;
}
