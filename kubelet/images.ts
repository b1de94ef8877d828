// ImageManager: the kubelet's image puller (upstream pkg/kubelet/images): applies the pull
// policy, pulls each image once at a time however many containers wait for it, and holds the
// ImagePullBackOff of each container. It emits the Pulling/Pulled/Failed/BackOff events and tells
// the caller which waiting reason the container shows; it never touches the pod's status itself.

import type { PullPolicy } from "#pkg/api/defaults.js";
import type { Pod } from "#pkg/api/types/index.js";
import { Backoff } from "#pkg/flowcontrol/backoff.js";
import type { Clock } from "#pkg/runtime/clock.js";
import type { Logger } from "#pkg/runtime/log.js";
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
      await this.pull(image);
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

  /** pull: one pull per image at a time; concurrent starts of the same image share it. */
  private pull(image: string): Promise<void> {
    let p = this.pulls.get(image);
    if (!p) {
      p = this.o.runtime.pullImage(image, this.o.signal).finally(() => this.pulls.delete(image));
      this.pulls.set(image, p);
    }
    return p;
  }
}
