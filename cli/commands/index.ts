// Every kubeling command, wired into commander. Actions return an exit code; non-zero codes
// travel as SilentExit because the messages were already printed.

import { text } from "node:stream/consumers";
import { type Command, Option } from "commander";
import type { CliContext } from "../context.js";
import { SilentExit } from "../errors.js";
import { runApiResources } from "./apiresources.js";
import { runApply, runCreate } from "./apply.js";
import { type CreateCronJobOptions, type CreateJobOptions, runCreateCronJob, runCreateJob } from "./batch.js";
import { runConfig } from "./config.js";
import {
  type ConfigSources,
  type CreateConfigOptions,
  type DockerRegistryOptions,
  runCreateConfigMap,
  runCreateSecretDockerRegistry,
  runCreateSecretGeneric,
  runCreateSecretTLS,
} from "./createconfig.js";
import { runDelete } from "./delete.js";
import { runDescribe } from "./describe.js";
import { type EventsOptions, runEvents } from "./events.js";
import { runExec } from "./exec.js";
import { runGet } from "./get.js";
import { type ExposeOptions, type RunOptions, runClusterInfo, runExpose, runRun } from "./imperative.js";
import { type LogsOptions, runLogs } from "./logs.js";
import { type DrainOptions, runCordon, runDrain } from "./node.js";
import { type PkiInitOptions, runPkiInit } from "./pki.js";
import { runPortForward } from "./portforward.js";
import { type CreatePriorityClassOptions, runCreatePriorityClass } from "./priorityclass.js";
import {
  runRolloutHistory,
  runRolloutPause,
  runRolloutRestart,
  runRolloutResume,
  runRolloutStatus,
  runRolloutUndo,
} from "./rollout.js";
import { runSetEnv, runSetImage, type SetEnvOptions, type SetImageOptions } from "./set.js";
import { runVersion } from "./version.js";
import { runWait } from "./wait.js";
import {
  type CreateDeploymentOptions,
  runCreateDeployment,
  runCreateNamespace,
  runLabel,
  runPatch,
  runScale,
  type ScaleOptions,
} from "./workloads.js";

type GetContext = () => CliContext;

function done(code: number): void {
  if (code !== 0) throw new SilentExit(code);
}

const DRY_RUN_HELP = "none, client (print the object without sending it) or server (dryRun=All); bare: client";

const collect = (v: string, prev: string[] = []) => [...prev, v];

/**
 * --save-config is also a flag of `create` itself, and commander gives it to the parent when both
 * define it: a generator under `create` reads it from there too.
 */
function withSaveConfig<T extends CreateConfigOptions>(o: T, cmd: Command): T {
  return cmd.optsWithGlobals<{ saveConfig?: boolean }>().saveConfig ? { ...o, saveConfig: true } : o;
}

export function registerCommands(program: Command, ctx: GetContext): void {
  program
    .command("get")
    .description("Display one or many resources")
    .argument("[args...]", "TYPE[,TYPE...] [NAME...] | TYPE/NAME ... | all")
    .option("--show-labels", "when printing, show all labels as the last column")
    .option("--watch-only", "watch for changes to the requested object(s), without listing/getting first")
    .option("--no-headers", "don't print headers")
    .option("--sort-by <jsonpath>", "sort list types using this field specification (e.g. '{.metadata.name}')")
    .action(
      async (args: string[], o: { showLabels?: boolean; watchOnly?: boolean; headers?: boolean; sortBy?: string }) => {
        done(
          await runGet(ctx(), args, {
            ...(o.showLabels ? { showLabels: true } : {}),
            ...(o.watchOnly ? { watchOnly: true } : {}),
            ...(o.headers === false ? { noHeaders: true } : {}),
            ...(o.sortBy ? { sortBy: o.sortBy } : {}),
          }),
        );
      },
    );

  program
    .command("events")
    .description("List events (oldest first)")
    .option("--for <resource>", "filter events to only those pertaining to the specified resource (TYPE/NAME)")
    .option(
      "--types <types>",
      "output only events of given types (Normal, Warning; repeatable or comma separated)",
      collect,
      [],
    )
    .option("--no-headers", "don't print headers")
    .action(async (o: { for?: string; types: string[]; headers?: boolean }) => {
      const opts: EventsOptions = {
        types: o.types,
        ...(o.for ? { for: o.for } : {}),
        ...(o.headers === false ? { noHeaders: true } : {}),
      };
      done(await runEvents(ctx(), opts));
    });

  program
    .command("describe")
    .description("Show details of a specific resource or group of resources")
    .argument("<type>", "resource type, or TYPE/NAME")
    .argument("[names...]")
    .action(async (type: string, names: string[]) => done(await runDescribe(ctx(), type, names)));

  program
    .command("apply")
    .description("Apply a configuration to a resource by file name or stdin")
    .option("-f, --filename <file>", "file, directory or - for stdin (repeatable)", collect, [])
    .option("--server-side", "apply on the server (PATCH with application/apply-patch+yaml)")
    .option("--force-conflicts", "with --server-side, take over fields owned by other managers")
    .option("--field-manager <name>", "name of the manager used to track field ownership")
    .action(async (o: { filename: string[]; serverSide?: boolean; forceConflicts?: boolean; fieldManager?: string }) =>
      done(
        await runApply(ctx(), {
          filenames: o.filename,
          ...(o.serverSide ? { serverSide: true } : {}),
          ...(o.forceConflicts ? { forceConflicts: true } : {}),
          ...(o.fieldManager ? { fieldManager: o.fieldManager } : {}),
        }),
      ),
    );

  const create = program
    .command("create")
    .description("Create a resource from a file or from stdin")
    .option("-f, --filename <file>", "file, directory or - for stdin (repeatable)", collect, [])
    .option("--save-config", "store the configuration in the last-applied annotation")
    .action(async (o: { filename: string[]; saveConfig?: boolean }) =>
      done(await runCreate(ctx(), { filenames: o.filename, ...(o.saveConfig ? { saveConfig: true } : {}) })),
    );
  create
    .command("deployment")
    .alias("deploy")
    .description("Create a deployment with the specified name")
    .argument("<name>")
    .argument("[command...]", "the command of its containers, after --")
    .option("--image <image>", "image names to run (repeatable or comma separated)", collect, [])
    .option("-r, --replicas <n>", "number of replicas to create (default 1)")
    .option("--port <port>", "the port that this container exposes")
    .option("--dry-run [strategy]", DRY_RUN_HELP)
    .action(async (name: string, command: string[], o: CreateDeploymentOptions) =>
      done(await runCreateDeployment(ctx(), name, o, command)),
    );
  create
    .command("job")
    .description("Create a job with the specified name")
    .argument("<name>")
    .argument("[command...]", "the command of its container, after --")
    .option("--image <image>", "image name to run")
    .option("--from <resource>", "the name of the resource to create a Job from (only cronjob is supported)")
    .option("--dry-run [strategy]", DRY_RUN_HELP)
    .action(async (name: string, command: string[], o: CreateJobOptions) =>
      done(await runCreateJob(ctx(), name, o, command)),
    );
  create
    .command("cronjob")
    .alias("cj")
    .description("Create a cronjob with the specified name")
    .argument("<name>")
    .argument("[command...]", "the command of its container, after --")
    .option("--image <image>", "image name to run")
    .option("--schedule <schedule>", "a schedule in the Cron format the job should be run with")
    .option("--restart <policy>", "job's restart policy: OnFailure or Never", "OnFailure")
    .option("--dry-run [strategy]", DRY_RUN_HELP)
    .action(async (name: string, command: string[], o: CreateCronJobOptions) =>
      done(await runCreateCronJob(ctx(), name, o, command)),
    );
  create
    .command("namespace")
    .alias("ns")
    .description("Create a namespace with the specified name")
    .argument("<name>")
    .option("--dry-run [strategy]", DRY_RUN_HELP)
    .action(async (name: string, o: { dryRun?: string | boolean }) => done(await runCreateNamespace(ctx(), name, o)));
  create
    .command("priorityclass")
    .alias("pc")
    .description("Create a priority class with the specified name")
    .argument("<name>")
    .option("--value <n>", "the value of this priority class", "0")
    .option(
      "--global-default",
      "global-default specifies whether this PriorityClass should be considered as the default priority",
    )
    .option(
      "--description <text>",
      "description is an arbitrary string that usually provides guidelines on when this priority class should be used",
    )
    .option(
      "--preemption-policy <policy>",
      "the policy for preempting pods with lower priority",
      "PreemptLowerPriority",
    )
    .option("--dry-run [strategy]", DRY_RUN_HELP)
    .action(async (name: string, o: CreatePriorityClassOptions) => done(await runCreatePriorityClass(ctx(), name, o)));

  create
    .command("configmap")
    .alias("cm")
    .description("Create a config map from a local file, directory or literal value")
    .argument("<name>")
    .option(
      "--from-file <[key=]source>",
      "a file (key: its base name, or the given key) or a directory (each regular file)",
      collect,
      [],
    )
    .option("--from-literal <key=value>", "a key and literal value to insert (repeatable)", collect, [])
    .option("--from-env-file <file>", "a file of key=val lines (i.e. a Docker .env file)", collect, [])
    .option("--append-hash", "append a hash of the configmap to its name")
    .option("--save-config", "store the object in its last-applied-configuration annotation")
    .option("--field-manager <name>", "name of the manager used to track field ownership", "kubectl-create")
    .option("--dry-run [strategy]", DRY_RUN_HELP)
    .action(async (name: string, o: ConfigSources & CreateConfigOptions, cmd: Command) =>
      done(await runCreateConfigMap(ctx(), name, withSaveConfig(o, cmd))),
    );
  const secret = create.command("secret").description("Create a secret (generic, tls or docker-registry)");
  secret
    .command("generic")
    .description("Create a secret from a local file, directory, or literal value")
    .argument("<name>")
    .option(
      "--from-file <[key=]source>",
      "a file (key: its base name, or the given key) or a directory (each regular file)",
      collect,
      [],
    )
    .option("--from-literal <key=value>", "a key and literal value to insert (repeatable)", collect, [])
    .option("--from-env-file <file>", "a file of key=val lines", collect, [])
    .option("--type <type>", "the type of secret to create")
    .option("--append-hash", "append a hash of the secret to its name")
    .option("--save-config", "store the object in its last-applied-configuration annotation")
    .option("--field-manager <name>", "name of the manager used to track field ownership", "kubectl-create")
    .option("--dry-run [strategy]", DRY_RUN_HELP)
    .action(async (name: string, o: ConfigSources & CreateConfigOptions & { type?: string }, cmd: Command) =>
      done(await runCreateSecretGeneric(ctx(), name, withSaveConfig(o, cmd))),
    );
  secret
    .command("tls")
    .description("Create a TLS secret from the given public/private key pair")
    .argument("<name>")
    .option("--cert <path>", "path to PEM encoded public key certificate")
    .option("--key <path>", "path to private key associated with given certificate")
    .option("--append-hash", "append a hash of the secret to its name")
    .option("--save-config", "store the object in its last-applied-configuration annotation")
    .option("--field-manager <name>", "name of the manager used to track field ownership", "kubectl-create")
    .option("--dry-run [strategy]", DRY_RUN_HELP)
    .action(async (name: string, o: { cert?: string; key?: string } & CreateConfigOptions, cmd: Command) =>
      done(await runCreateSecretTLS(ctx(), name, withSaveConfig(o, cmd))),
    );
  secret
    .command("docker-registry")
    .description("Create a secret for use with a Docker registry")
    .argument("<name>")
    .option("--docker-server <server>", "server location for Docker registry", "https://index.docker.io/v1/")
    .option("--docker-username <user>", "username for Docker registry authentication")
    .option("--docker-password <password>", "password for Docker registry authentication")
    .option("--docker-email <email>", "email for Docker registry")
    .option("--from-file <[key=]source>", "key files (e.g. .dockerconfigjson=path/to/config.json)", collect, [])
    .option("--append-hash", "append a hash of the secret to its name")
    .option("--save-config", "store the object in its last-applied-configuration annotation")
    .option("--field-manager <name>", "name of the manager used to track field ownership", "kubectl-create")
    .option("--dry-run [strategy]", DRY_RUN_HELP)
    .action(async (name: string, o: DockerRegistryOptions & CreateConfigOptions, cmd: Command) =>
      done(await runCreateSecretDockerRegistry(ctx(), name, withSaveConfig(o, cmd))),
    );

  program
    .command("run")
    .description("Run a particular image in a pod")
    .argument("<name>")
    .argument("[args...]", "arguments (or, with --command, the command) after --")
    .option("--image <image>", "the image for the container to run")
    .option("--restart <policy>", "the pod's restart policy: Always, OnFailure or Never", "Always")
    .option("--port <port>", "the port that this container exposes")
    .option("--env <KEY=VALUE>", "environment variables to set in the container (repeatable)", collect, [])
    .option("--labels <labels>", "comma separated labels to apply to the pod")
    .option("--command", "use the extra arguments as the command, not the args")
    .option("--dry-run [strategy]", DRY_RUN_HELP)
    .action(async (name: string, args: string[], o: RunOptions) => done(await runRun(ctx(), name, args, o)));

  program
    .command("expose")
    .description("Take a replication controller, service, deployment or pod and expose it as a new Kubernetes service")
    .argument("<resource...>", "TYPE NAME or TYPE/NAME")
    .option("--port <port>", "the port that the service should serve on")
    .option("--target-port <port>", "name or number of the port on the container")
    .option("--type <type>", "ClusterIP, NodePort, LoadBalancer or ExternalName")
    .option("--name <name>", "the name of the new service")
    .option("--protocol <protocol>", "the network protocol (default: the object's ports', else TCP)")
    .option("--selector <selector>", "a label selector (equality only) instead of the object's")
    .option("-l, --labels <labels>", "labels to apply to the service instead of the object's")
    .option("--cluster-ip <ip>", "ClusterIP to be assigned to the service; None for a headless service")
    .option("--external-ip <ips>", "additional external IP addresses (comma separated)")
    .option("--session-affinity <affinity>", "None or ClientIP")
    .option("--load-balancer-ip <ip>", "IP to assign to the LoadBalancer")
    .option("--dry-run [strategy]", DRY_RUN_HELP)
    .action(async (args: string[], o: ExposeOptions) => done(await runExpose(ctx(), args, o)));

  program
    .command("cluster-info")
    .description("Display addresses of the control plane and services with label kubernetes.io/cluster-service=true")
    .action(async () => done(await runClusterInfo(ctx())));

  program
    .command("scale")
    .description("Set a new size for a deployment, replica set, replication controller or stateful set")
    .argument("<resource...>", "TYPE NAME... or TYPE/NAME...")
    .option("--replicas <n>", "the new desired number of replicas (required)")
    .option("--current-replicas <n>", "precondition for current size (-1: no condition)")
    .option("--resource-version <rv>", "precondition for resource version")
    .option("--timeout <duration>", "how long to wait for the scale to be synced (0: don't wait)", "0")
    .action(async (args: string[], o: ScaleOptions) => done(await runScale(ctx(), args, o)));

  const rollout = program.command("rollout").description("Manage the rollout of a resource");
  rollout
    .command("status")
    .description("Show the status of the rollout")
    .argument("<resource...>", "TYPE NAME or TYPE/NAME")
    .option("--timeout <duration>", "the length of time to wait before ending watch (0: forever)", "0s")
    .option("-w, --watch [bool]", "watch the status of the rollout until it's done (--watch=false: once)", "true")
    .option("--revision <n>", "pin to a specific revision for showing its status (0: latest)")
    .action(async (args: string[], o: { timeout: string; watch: boolean | string; revision?: string }) =>
      done(await runRolloutStatus(ctx(), args, o)),
    );
  rollout
    .command("history")
    .description("View rollout history")
    .argument("<resource...>", "TYPE NAME or TYPE/NAME")
    .option("--revision <n>", "see the details, including podTemplate of the revision specified")
    .action(async (args: string[], o: { revision?: string }) => done(await runRolloutHistory(ctx(), args, o)));
  rollout
    .command("undo")
    .description("Undo a previous rollout")
    .argument("<resource...>", "TYPE NAME or TYPE/NAME")
    .option("--to-revision <n>", "the revision to roll back to (0: the previous one)", "0")
    .option("--dry-run [strategy]", DRY_RUN_HELP)
    .action(async (args: string[], o: { toRevision?: string; dryRun?: string | boolean }) =>
      done(await runRolloutUndo(ctx(), args, o)),
    );
  rollout
    .command("restart")
    .description("Restart a resource (new pods from a template annotation change)")
    .argument("<resource...>", "TYPE NAME... or TYPE/NAME...")
    .action(async (args: string[]) => done(await runRolloutRestart(ctx(), args)));
  rollout
    .command("pause")
    .description("Mark the provided resource as paused")
    .argument("<resource...>", "TYPE NAME... or TYPE/NAME...")
    .action(async (args: string[]) => done(await runRolloutPause(ctx(), args)));
  rollout
    .command("resume")
    .description("Resume a paused resource")
    .argument("<resource...>", "TYPE NAME... or TYPE/NAME...")
    .action(async (args: string[]) => done(await runRolloutResume(ctx(), args)));

  const set = program.command("set").description("Set specific features on objects");
  set
    .command("image")
    .description("Update the image of a pod template")
    .argument("<args...>", "TYPE NAME... | TYPE/NAME... then CONTAINER=IMAGE... (* for every container)")
    .option("--all", "select all resources in the namespace of the specified resource types")
    .option("--dry-run [strategy]", DRY_RUN_HELP)
    .action(async (args: string[], o: SetImageOptions) => done(await runSetImage(ctx(), args, o)));
  set
    .command("env")
    .description("Update environment variables on a pod template")
    .argument("<args...>", "TYPE NAME... | TYPE/NAME... then KEY=VAL... KEY-...")
    .option(
      "-c, --containers <names>",
      "the names of containers in the selected pod templates to change (wildcards)",
      "*",
    )
    .option(
      "-e, --env <KEY=VAL>",
      "a key-value pair for an environment variable (repeatable; - reads stdin)",
      collect,
      [],
    )
    .option("--list", "display the environment and any changes in the standard format")
    .option("--overwrite [bool]", "allow environment to be overwritten (--overwrite=false: refuse)", true)
    .option("--all", "select all resources in the namespace of the specified resource types")
    .option("--dry-run [strategy]", DRY_RUN_HELP)
    .action(async (args: string[], o: SetEnvOptions) => done(await runSetEnv(ctx(), args, o, () => text(ctx().io.in))));

  program
    .command("label")
    .description("Update the labels on a resource")
    .argument("<args...>", "TYPE NAME KEY=VAL... KEY-...")
    .option("--overwrite", "allow labels to be overwritten")
    .action(async (args: string[], o: { overwrite?: boolean }) => done(await runLabel(ctx(), args, o)));
  program
    .command("annotate")
    .description("Update the annotations on a resource")
    .argument("<args...>", "TYPE NAME KEY=VAL... KEY-...")
    .option("--overwrite", "allow annotations to be overwritten")
    .action(async (args: string[], o: { overwrite?: boolean }) => done(await runLabel(ctx(), args, o, "annotations")));
  program
    .command("patch")
    .description("Update fields of a resource using strategic merge patch, a JSON merge patch, or a JSON patch")
    .argument("<resource...>", "TYPE NAME or TYPE/NAME")
    .requiredOption("-p, --patch <patch>", "the patch to be applied to the resource JSON file")
    .option("--type <type>", "the type of patch being provided; one of [json merge strategic]", "strategic")
    .option("--subresource <name>", "e.g. status or scale")
    .action(async (args: string[], o: { patch: string; type: string; subresource?: string }) =>
      done(await runPatch(ctx(), args, o)),
    );

  program
    .command("delete")
    .description("Delete resources by file names, stdin, resources and names, or by resources and label selector")
    .argument("[args...]", "TYPE NAME... | TYPE/NAME ... | TYPE -l SELECTOR | TYPE --all")
    .option("-f, --filename <file>", "file, directory or - for stdin (repeatable)", collect, [])
    .option("--all", "delete all resources of the type in the namespace")
    .option(
      "--grace-period <seconds>",
      "seconds given to the resource to terminate gracefully (-1: the object's default)",
    )
    .option("--now", "signal resources for immediate shutdown (same as --grace-period=1)")
    .option("--force", "with --grace-period=0, delete immediately")
    .option("--cascade <policy>", "background, foreground or orphan", "background")
    .option("--wait [bool]", "wait for resources to be gone before returning", "true")
    .option("--timeout <duration>", "how long to wait for the deletion (0: forever)", "0")
    .option("--ignore-not-found", 'treat "resource not found" as a successful delete')
    .action(
      async (
        args: string[],
        o: {
          filename: string[];
          all?: boolean;
          gracePeriod?: string;
          now?: boolean;
          force?: boolean;
          cascade?: string;
          wait?: string | boolean;
          timeout?: string;
          ignoreNotFound?: boolean;
        },
      ) =>
        done(
          await runDelete(ctx(), args, {
            filenames: o.filename,
            ...(o.all ? { all: true } : {}),
            ...(o.gracePeriod !== undefined ? { gracePeriod: o.gracePeriod } : {}),
            ...(o.now ? { now: true } : {}),
            ...(o.force ? { force: true } : {}),
            ...(o.cascade ? { cascade: o.cascade } : {}),
            wait: o.wait === true || o.wait === "true",
            ...(o.timeout ? { timeout: o.timeout } : {}),
            ...(o.ignoreNotFound ? { ignoreNotFound: true } : {}),
          }),
        ),
    );

  program
    .command("api-resources")
    .description("Print the supported API resources on the server")
    .option("--namespaced <bool>", "true: only namespaced resources; false: only cluster-scoped ones")
    .option("--api-group <group>", "limit to resources in the specified API group")
    .action(async (o: { namespaced?: string; apiGroup?: string }) => done(await runApiResources(ctx(), o)));

  program
    .command("version")
    .description("Print the client and server version information")
    .option("--client", "client version only (no server required)")
    .action(async (o: { client?: boolean }) => done(await runVersion(ctx(), o)));

  const list = (v: string, prev: string[] = []) => [
    ...prev,
    ...v
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  ];
  const pki = program
    .command("pki")
    .description("Manage the cluster's certificates (as kubeadm's certs and kubeconfig phases)");
  pki
    .command("init")
    .description(
      "Make the cluster CA, the API server's and etcd's certificates and a client-certificate kubeconfig per component, keeping what still fits",
    )
    .option("--dir <dir>", "where pki/ and the kubeconfigs go (kubeadm: /etc/kubernetes)", ".kubeling")
    .option("--server <url>", "the API server URL written into the kubeconfigs (none: certificates only)")
    .option(
      "--node <names>",
      "kubelet node names, one system:node:<name> kubeconfig each (repeatable, comma-separated)",
      list,
      [],
    )
    .option("--apiserver-cert-extra-sans <names>", "more DNS names and IPs for the serving certificate", list, [])
    .option("--etcd-cert-extra-sans <names>", "etcd member host names for etcd's certificates", list, [])
    .option(
      "--service-cidr <cidr>",
      "the service range; its first IP goes into the serving certificate",
      "10.96.0.0/12",
    )
    .option("--service-dns-domain <domain>", "the cluster's DNS domain", "cluster.local")
    .option(
      "--export <component=dir>",
      "also copy one component's files (etcd, admin, scheduler, controller-manager, kube-proxy, kube-dns, kubelet:<node>) into dir (repeatable)",
      collect,
      [],
    )
    .action(async (o: PkiInitOptions) => done(await runPkiInit(ctx(), o)));

  const config = program.command("config").description("Modify kubeconfig files");
  config
    .command("view")
    .description("Display merged kubeconfig settings")
    .option("--raw", "display raw byte data and sensitive data")
    .option("--minify", "remove all information not used by current-context")
    .action(async (o: { raw?: boolean; minify?: boolean }) => done(await runConfig(ctx(), "view", [], o)));
  config
    .command("current-context")
    .description("Display the current-context")
    .action(async () => done(await runConfig(ctx(), "current-context", [], {})));
  config
    .command("use-context")
    .alias("use")
    .description("Set the current-context in a kubeconfig file")
    .argument("<name>")
    .action(async (name: string) => done(await runConfig(ctx(), "use-context", [name], {})));
  config
    .command("get-contexts")
    .description("Describe one or many contexts")
    .argument("[name]")
    .action(async (name: string | undefined) => done(await runConfig(ctx(), "get-contexts", name ? [name] : [], {})));

  program
    .command("cordon")
    .description("Mark node as unschedulable")
    .argument("<node>")
    .action(async (node: string) => done(await runCordon(ctx(), node, true)));
  program
    .command("uncordon")
    .description("Mark node as schedulable")
    .argument("<node>")
    .action(async (node: string) => done(await runCordon(ctx(), node, false)));
  program
    .command("drain")
    .description("Drain node in preparation for maintenance")
    .argument("<node>")
    .option("--ignore-daemonsets", "ignore DaemonSet-managed pods")
    .option("--force", "also delete pods not managed by a controller")
    .option("--delete-emptydir-data", "continue even if there are pods using emptyDir")
    .option("--grace-period <seconds>", "period of time in seconds given to each pod to terminate gracefully", "-1")
    .option("--timeout <duration>", "the length of time to wait before giving up (0: forever)", "0")
    .action(async (node: string, o: DrainOptions) => done(await runDrain(ctx(), node, o)));

  program
    .command("wait")
    .description("Wait for a specific condition on one or many resources")
    .argument("<resources...>", "TYPE/NAME ... or TYPE NAME...")
    .requiredOption("--for <condition>", "condition=NAME[=VALUE] or delete")
    .option("--timeout <duration>", "how long to wait (default 30s; 0: check once)", "30s")
    .action(async (resources: string[], o: { for: string; timeout: string }) =>
      done(await runWait(ctx(), resources, o)),
    );

  program
    .command("logs")
    .description("Print the logs for a container in a pod")
    .argument("[pod]", "POD or TYPE/NAME (or -l SELECTOR)")
    .argument("[container]")
    .option("-c, --container <name>", "print the logs of this container")
    .option("-f, --follow", "specify if the logs should be streamed")
    .option("--tail <lines>", "lines of recent log file to display (-1: all; 10 with a selector)", "-1")
    .option("-p, --previous", "print the logs for the previous instance of the container")
    .option("--timestamps", "include timestamps on each line in the log output")
    .option("--since <duration>", "only return logs newer than a relative duration like 5s, 2m, or 3h")
    .option("--all-containers", "get all containers' logs in the pod(s)")
    .option("--prefix", "prefix each log line with the log source (pod name and container name)")
    .action(async (pod: string | undefined, container: string | undefined, o: LogsOptions) =>
      done(await runLogs(ctx(), pod, { ...o, ...(container && !o.container ? { container } : {}) })),
    );

  program
    .command("exec")
    .description("Execute a command in a container")
    .argument("<pod>", "POD or TYPE/NAME")
    .argument("[command...]", "the command and its arguments, after --")
    .option("-c, --container <name>", "container name (default: the first container)")
    .option("-i, --stdin", "pass stdin to the container")
    .option("-t, --tty", "stdin is a TTY")
    .action(async (pod: string, command: string[], o: { container?: string; stdin?: boolean; tty?: boolean }) =>
      done(await runExec(ctx(), pod, command, o)),
    );

  program
    .command("port-forward")
    .description("Forward one or more local ports to a pod")
    .argument("<pod>", "POD or TYPE/NAME")
    .argument("<ports...>", "[LOCAL_PORT:]REMOTE_PORT")
    .addOption(new Option("--address <addresses>", "addresses to listen on (comma separated)").default("localhost"))
    .action(async (pod: string, ports: string[], o: { address: string }) =>
      done(await runPortForward(ctx(), pod, ports, o)),
    );
}
