// Local images for tests: no registry is reachable on our machines, so the images pods run
// are built from the host's busybox-static with `docker import` (DESIGN.md section 7).
//   kubeling.local/busybox:latest  /bin/busybox plus one symlink per applet, CMD sh
//   kubeling.local/pause:latest    the same rootfs, CMD sleeps "forever" (the pod sandbox)
// scripts/build-images.sh (helper E) is the one builder: when it exists this helper runs it
// (it is hash-cached, so a second run is fast); the docker-import fallback below builds the same
// two images for checkouts without the script.

import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BUSYBOX_IMAGE = "kubeling.local/busybox:latest";
export const PAUSE_IMAGE = "kubeling.local/pause:latest";
/** A static kubectl on busybox (scripts/build-images.sh); in-cluster in a pod. */
export const KUBECTL_IMAGE = "kubeling.local/kubectl:1.31";
/** Debian's python3 with the official client (python3-kubernetes) on busybox (scripts/build-images.sh). */
export const PYTHON_IMAGE = "kubeling.local/python:3";
const BUSYBOX_BIN = "/usr/bin/busybox";

function imageExists(name: string): boolean {
  return spawnSync("docker", ["image", "inspect", name], { stdio: "ignore" }).status === 0;
}

function buildRootfs(): string {
  const dir = mkdtempSync(join(tmpdir(), "kubeling-rootfs-"));
  for (const d of ["bin", "tmp", "etc", "proc", "sys", "dev", "root", "var/www"])
    mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, "tmp"), 0o1777);
  copyFileSync(BUSYBOX_BIN, join(dir, "bin/busybox"));
  chmodSync(join(dir, "bin/busybox"), 0o755);
  const applets = execFileSync(BUSYBOX_BIN, ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
  for (const a of applets) {
    if (a === "busybox" || a.includes("/")) continue;
    symlinkSync("busybox", join(dir, "bin", a));
  }
  return dir;
}

function importImage(rootfs: string, name: string, cmd: string[]): void {
  const tar = spawnSync("tar", ["-C", rootfs, "-c", "."], { maxBuffer: 64 * 1024 * 1024 });
  if (tar.status !== 0) throw new Error(`tar of ${rootfs} failed: ${tar.stderr?.toString()}`);
  const r = spawnSync(
    "docker",
    ["import", "--change", `CMD ${JSON.stringify(cmd)}`, "--change", "ENV PATH=/bin", "-", name],
    { input: tar.stdout, maxBuffer: 64 * 1024 * 1024 },
  );
  if (r.status !== 0) throw new Error(`docker import ${name} failed: ${r.stderr?.toString()}`);
}

/**
 * ensureLocalImages builds kubeling.local/busybox:latest and kubeling.local/pause:latest if
 * they are missing. Throws (never skips) when Docker or /usr/bin/busybox is unavailable.
 */
export function ensureLocalImages(): { busybox: string; pause: string } {
  let missing = [BUSYBOX_IMAGE, PAUSE_IMAGE].filter((n) => !imageExists(n));
  const script = join(dirname(fileURLToPath(import.meta.url)), "../../scripts/build-images.sh");
  if (missing.length > 0 && existsSync(script)) {
    const r = spawnSync("bash", [script], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
    missing = [BUSYBOX_IMAGE, PAUSE_IMAGE].filter((n) => !imageExists(n));
  }
  if (missing.length > 0) {
    const rootfs = buildRootfs();
    try {
      if (missing.includes(BUSYBOX_IMAGE)) importImage(rootfs, BUSYBOX_IMAGE, ["/bin/sh"]);
      // The sandbox only holds the network namespace; with HostConfig.Init the sleep gets SIGTERM.
      if (missing.includes(PAUSE_IMAGE)) importImage(rootfs, PAUSE_IMAGE, ["/bin/sleep", "2147483647"]);
    } finally {
      rmSync(rootfs, { recursive: true, force: true });
    }
  }
  return { busybox: BUSYBOX_IMAGE, pause: PAUSE_IMAGE };
}

/**
 * ensureClientImages builds kubeling.local/kubectl and kubeling.local/python with
 * scripts/build-images.sh if either is missing; throws (never skips) when they still are.
 */
export function ensureClientImages(): { kubectl: string; python: string } {
  const want = [KUBECTL_IMAGE, PYTHON_IMAGE];
  if (want.some((n) => !imageExists(n))) {
    const script = join(dirname(fileURLToPath(import.meta.url)), "../../scripts/build-images.sh");
    const r = spawnSync("bash", [script], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  }
  const missing = want.filter((n) => !imageExists(n));
  if (missing.length > 0) {
    throw new Error(
      `scripts/build-images.sh did not build ${missing.join(", ")} (see its log: python3-kubernetes installed?)`,
    );
  }
  return { kubectl: KUBECTL_IMAGE, python: PYTHON_IMAGE };
}
