// ImageManager: the kubelet's image puller (upstream pkg/kubelet/images): applies the pull
// policy, pulls each image once at a time however many containers wait for it, and holds the
// ImagePullBackOff of each container. It emits the Pulling/Pulled/Failed/BackOff events and tells
// the caller which waiting reason the container shows; it never touches the pod's status itself.

import type { PullPolicy } from "#pkg/api/defaults.js";
import type { Pod, Secret } from "#pkg/api/types/index.js";
import { Backoff } from "#pkg/flowcontrol/backoff.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
import { credentialsFor, type RegistryAuth } from "./credentials.js";
import type { Waiting } from "./pod-status.js";
import type { Runtime } from "./runtime/runtime.js";
import type { EventSink } from "./sources.js";

/** Usable, or not (yet): the waiting reason to show and when to look again. */
export type ImageResult = { ready: true } | { ready: false; waiting?: Waiting; retryMs?: number };

/** A locally present image whose pull failed this recently is used as is (no registry answers here). */
const PULL_FAILURE_GRACE_MS = 300_000;

export interface ImageManagerOptions {
  runtime: Runtime;
  events: EventSink;
  log: Logger;
  clock: Clock;
  backoffBaseMs: number;
  backoffMaxMs: number;
  signal: AbortSignal;
  /** The pod's imagePullSecrets that exist (upstream: missing ones are skipped). */
  pullSecrets?: (pod: Pod) => Promise<Secret[]>;
}

export class ImageManager {
  /** image id → "docker-pullable://<digest>", for containerStatuses[].imageID. */
  readonly imageRefs = new Map<string, string>();
  private readonly backoff: Backoff;
  /** image → time of the last failed pull, so a locally present image is not re-pulled on every start. */
  private readonly pullFailedAt = new Map<string, number>();
  private readonly pulls = new Map<string, Promise<void>>();

  constructor(private readonly o: ImageManagerOptions) {
    this.backoff = new Backoff(o.backoffBaseMs, o.backoffMaxMs, o.clock);
  }

  /**
   * ensureImageExists makes the image available per the pull policy. `container` is undefined
   * for the sandbox's image (no events, no backoff); `current` is the container's waiting state.
   */
  async ensureImageExists(
    pod: Pod,
    image: string,
    policy: PullPolicy,
    container: string | undefined,
    current: Waiting | undefined,
  ): Promise<ImageResult> {
    const uid = pod.metadata.uid ?? "";
    const { runtime, events, clock } = this.o;
    const local = await runtime.imageStatus(image);
    if (local?.repoDigests[0]) this.imageRefs.set(local.id, `docker-pullable://${local.repoDigests[0]}`);
    const present = (): ImageResult => {
      if (container) events.event(pod, "Normal", "Pulled", `Container image "${image}" already present on machine`);
      return { ready: true };
    };
    if (policy === "Never") {
      if (local) return present();
      if (!container) return { ready: false, retryMs: 30_000 };
      const message = `Container image "${image}" is not present with pull policy of Never`;
      events.event(pod, "Warning", "ErrImageNeverPull", message);
      return { ready: false, waiting: { reason: "ErrImageNeverPull", message }, retryMs: 30_000 };
    }
    if (local && policy === "IfNotPresent") return present();
    const failedAt = this.pullFailedAt.get(image);
    if (local && failedAt && clock.now() - failedAt < PULL_FAILURE_GRACE_MS) return present();
    const key = `${uid}/${container ?? "POD"}/pull`;
    if (!local && container) {
      const remaining = this.backoff.remaining(key, failedAt ?? 0);
      if (remaining > 0 && current) {
        const message = `Back-off pulling image "${image}"`;
        if (current.reason !== "ImagePullBackOff") events.event(pod, "Normal", "BackOff", message);
        return { ready: false, waiting: { reason: "ImagePullBackOff", message }, retryMs: remaining };
      }
    }
    if (container) events.event(pod, "Normal", "Pulling", `Pulling image "${image}"`);
    const t0 = clock.now();
    try {
      const secrets = pod.spec?.imagePullSecrets?.length ? ((await this.o.pullSecrets?.(pod)) ?? []) : [];
      await this.pull(image, credentialsFor(image, secrets));
      this.pullFailedAt.delete(image);
      this.backoff.reset(key);
      if (container)
        events.event(pod, "Normal", "Pulled", `Successfully pulled image "${image}" in ${clock.now() - t0}ms`);
      return { ready: true };
    } catch (err) {
      this.pullFailedAt.set(image, clock.now());
      const message = err instanceof Error ? err.message : String(err);
      if (local) {
        this.o.log.info({ image, err: message }, "pull failed; using the local image");
        return present();
      }
      if (!container) return { ready: false };
      const delay = this.backoff.next(key);
      events.event(pod, "Warning", "Failed", `Failed to pull image "${image}": ${message}`);
      events.event(pod, "Warning", "Failed", "Error: ErrImagePull");
      // Come back soon to report ImagePullBackOff for the rest of the delay (upstream shows both).
      return { ready: false, waiting: { reason: "ErrImagePull", message }, retryMs: Math.min(delay, 1000) };
    }
  }

  /** forgetPod drops the pull backoff of a pod that is gone. */
  forgetPod(uid: string): void {
    this.backoff.resetPrefix(`${uid}/`);
  }

  /**
   * pull: one pull per image (and credentials) at a time; concurrent starts share it. With
   * credentials, each is tried in turn until one pulls (upstream's PullImage over the keyring).
   */
  private pull(image: string, creds: RegistryAuth[]): Promise<void> {
    const key = `${image}\0${creds.map((c) => `${c.serveraddress}/${c.username}`).join(",")}`;
    let p = this.pulls.get(key);
    if (!p) {
      p = this.pullWith(image, creds).finally(() => this.pulls.delete(key));
      this.pulls.set(key, p);
    }
    return p;
  }

  private async pullWith(image: string, creds: RegistryAuth[]): Promise<void> {
    if (creds.length === 0) return this.o.runtime.pullImage(image, this.o.signal);
    let last: unknown;
    for (const auth of creds) {
      try {
        return await this.o.runtime.pullImage(image, this.o.signal, auth);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }
}
