// Registry credentials from a pod's imagePullSecrets (upstream pkg/credentialprovider: the
// DockerConfig of kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg Secrets, and the
// keyring that matches an image to the entries of its registry). Docker Hub's spellings
// (https://index.docker.io/v1/, index.docker.io, registry-1.docker.io, none) are one registry;
// an entry matches an image when its host (labels may be "*" globs, the port must be the same)
// is the image's registry and its path, if any, prefixes the image's repository; the most
// specific entries come first, and the kubelet tries each until a pull succeeds.

import type { Secret } from "#pkg/api/types/index.js";

/** What Docker's X-Registry-Auth carries for a pull. */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

interface Entry {
  host: string;
  path: string;
  auth: RegistryAuth;
}

const DOCKER_HUB = "docker.io";
const HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

const normalizeHost = (host: string) => (HUB_ALIASES.has(host) ? DOCKER_HUB : host);

/** An entry's key ("https://host:port/path", "host/path", Docker Hub's v1 URL) as host and path. */
function parseKey(key: string): { host: string; path: string } {
  const stripped = key.replace(/^[a-z]+:\/\//i, "");
  const slash = stripped.indexOf("/");
  const host = normalizeHost((slash < 0 ? stripped : stripped.slice(0, slash)).toLowerCase());
  let path = slash < 0 ? "" : stripped.slice(slash + 1).replace(/\/+$/, "");
  // Docker Hub's v1 endpoint names the registry, not a repository.
  if (host === DOCKER_HUB && (path === "v1" || path === "v2")) path = "";
  return { host, path };
}

/** An image reference's registry host and repository path (docker.io's "library/" implied). */
export function imageRegistry(image: string): { host: string; repo: string } {
  const name = image.replace(/@.*$/, "");
  const first = name.split("/")[0] ?? "";
  const hasRegistry = name.includes("/") && (first.includes(".") || first.includes(":") || first === "localhost");
  const host = hasRegistry ? normalizeHost(first.toLowerCase()) : DOCKER_HUB;
  let repo = hasRegistry ? name.slice(first.length + 1) : name;
  repo = repo.replace(/:[^/]*$/, "");
  if (host === DOCKER_HUB && !repo.includes("/")) repo = `library/${repo}`;
  return { host, repo };
}

/** upstream's URLsMatch on hosts: the same number of labels, each equal or matched by a "*" glob. */
function hostMatches(pattern: string, host: string): boolean {
  const [pHost = "", pPort = ""] = pattern.split(/:(?=\d+$)/);
  const [hHost = "", hPort = ""] = host.split(/:(?=\d+$)/);
  if (pPort !== hPort) return false;
  const p = pHost.split(".");
  const h = hHost.split(".");
  if (p.length !== h.length) return false;
  return p.every((label, i) => {
    const re = new RegExp(`^${label.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^.]*")}$`);
    return re.test(h[i] ?? "");
  });
}

/** The entries of one Secret's Docker config; other Secret types hold none. */
function entriesOf(secret: Secret): Entry[] {
  const data = secret.data ?? {};
  let auths: Record<string, { username?: string; password?: string; auth?: string }> = {};
  try {
    if (secret.type === "kubernetes.io/dockerconfigjson" && data[".dockerconfigjson"])
      auths = JSON.parse(Buffer.from(data[".dockerconfigjson"], "base64").toString()).auths ?? {};
    else if (secret.type === "kubernetes.io/dockercfg" && data[".dockercfg"])
      auths = JSON.parse(Buffer.from(data[".dockercfg"], "base64").toString());
  } catch {
    return [];
  }
  const out: Entry[] = [];
  for (const [key, e] of Object.entries(auths)) {
    if (!e || typeof e !== "object") continue;
    let { username = "", password = "" } = e;
    // "auth" (base64 of user:password) wins, as upstream's DockerConfigEntry decoding.
    if (e.auth) {
      const plain = Buffer.from(e.auth, "base64").toString();
      const colon = plain.indexOf(":");
      if (colon > 0) [username, password] = [plain.slice(0, colon), plain.slice(colon + 1)];
    }
    const { host, path } = parseKey(key);
    out.push({ host, path, auth: { username, password, serveraddress: host === DOCKER_HUB ? key : host } });
  }
  return out;
}

/** credentialsFor: the credentials to try for an image, most specific entry first. */
export function credentialsFor(image: string, secrets: readonly Secret[]): RegistryAuth[] {
  const { host, repo } = imageRegistry(image);
  const matches = secrets
    .flatMap(entriesOf)
    .filter((e) => hostMatches(e.host, host) && (e.path === "" || repo === e.path || repo.startsWith(`${e.path}/`)))
    .sort((a, b) => `${b.host}/${b.path}`.length - `${a.host}/${a.path}`.length);
  const seen = new Set<string>();
  return matches
    .map((m) => m.auth)
    .filter((a) => {
      const k = `${a.serveraddress}\0${a.username}\0${a.password}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
}
