// --encryption-provider-config: upstream's EncryptionConfiguration (apiserver.config.k8s.io/v1;
// apiserver/pkg/server/options/encryptionconfig/config.go and apis/apiserver/validation/
// validation_encryption.go). Each resources[] entry names resources ("secrets",
// "deployments.apps", "*." for the core group, "*.apps", "*.*") and an ordered provider list:
// the first provider encrypts, every provider is tried to decrypt by its prefix. aescbc, aesgcm,
// secretbox and identity are supported; kms is refused. A bad file is refused as a whole, with
// upstream's field errors, before the API server touches etcd.

import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import {
  type FieldError,
  fieldForbidden,
  fieldInvalid,
  fieldRequired,
  type QualifiedResource,
} from "#pkg/api/errors.js";
import { AES_KEY_SIZES, cbcTransformer, gcmTransformer } from "./aes.js";
import { SECRETBOX_KEY_SIZE, secretboxTransformer } from "./secretbox.js";
import {
  IDENTITY,
  KeyTransformers,
  type PrefixTransformer,
  PrefixTransformers,
  type Transformer,
} from "./transformer.js";

export const ENCRYPTION_CONFIG_API_VERSION = "apiserver.config.k8s.io/v1";
export const ENCRYPTION_CONFIG_KIND = "EncryptionConfiguration";

export interface EncryptionKey {
  name: string;
  /** base64 */
  secret: string;
}

export interface ProviderConfiguration {
  aescbc?: { keys: EncryptionKey[] };
  aesgcm?: { keys: EncryptionKey[] };
  secretbox?: { keys: EncryptionKey[] };
  identity?: Record<string, never>;
  kms?: Record<string, unknown>;
}

export interface ResourceConfiguration {
  resources: string[];
  providers: ProviderConfiguration[];
}

export interface EncryptionConfiguration {
  apiVersion: typeof ENCRYPTION_CONFIG_API_VERSION;
  kind: typeof ENCRYPTION_CONFIG_KIND;
  resources: ResourceConfiguration[];
}

const PROVIDER_PREFIX = {
  aescbc: "k8s:enc:aescbc:v1:",
  aesgcm: "k8s:enc:aesgcm:v1:",
  secretbox: "k8s:enc:secretbox:v1:",
} as const;

/** The fields the v1 types have: anything else is refused, as upstream's strict decoding does. */
const KNOWN_FIELDS: Record<string, readonly string[]> = {
  config: ["apiVersion", "kind", "resources"],
  resource: ["resources", "providers"],
  provider: ["aescbc", "aesgcm", "secretbox", "identity", "kms"],
  keyed: ["keys"],
  key: ["name", "secret"],
  identity: [],
};

/** upstream schema.ParseGroupResource: "deployments.apps" → apps/deployments; "secrets" → core. */
export function parseGroupResource(s: string): QualifiedResource {
  const dot = s.indexOf(".");
  return dot < 0 ? { group: "", resource: s } : { group: s.slice(dot + 1), resource: s.slice(0, dot) };
}

/** How the config file spells a group resource (upstream grYAMLString). */
function grString(gr: QualifiedResource): string {
  if (gr.group === "" && gr.resource === "*") return "*.";
  return gr.group === "" ? gr.resource : `${gr.resource}.${gr.group}`;
}

const ANY = { group: "*", resource: "*" };

/** A refused configuration; the message lists every field error, as upstream's aggregate does. */
export class EncryptionConfigError extends Error {}

function aggregate(errors: readonly FieldError[]): string {
  const list = errors.map((e) => `${e.field}: ${e.message}`);
  return list.length === 1 ? (list[0] as string) : `[${list.join(", ")}]`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Strict decoding: the shape of the v1 types (unknown fields, wrong types), before validation. */
function decodeStrict(raw: unknown): EncryptionConfiguration {
  const errs: string[] = [];
  const unknown = (obj: Record<string, unknown>, known: readonly string[], path: string) => {
    for (const k of Object.keys(obj))
      if (!known.includes(k)) errs.push(`unknown field "${path ? `${path}.` : ""}${k}"`);
  };
  const list = (v: unknown, path: string): unknown[] => {
    if (v === undefined || v === null) return [];
    if (Array.isArray(v)) return v;
    errs.push(`${path}: expected a list, got ${JSON.stringify(v)}`);
    return [];
  };
  const object = (v: unknown, path: string): Record<string, unknown> | undefined => {
    if (isObject(v)) return v;
    errs.push(`${path}: expected an object, got ${JSON.stringify(v)}`);
    return undefined;
  };
  const string = (v: unknown, path: string): string => {
    if (v === undefined || v === null) return "";
    if (typeof v === "string") return v;
    errs.push(`${path}: expected a string, got ${JSON.stringify(v)}`);
    return "";
  };
  if (!isObject(raw)) throw new EncryptionConfigError("the file does not hold an object");
  if (raw.kind === undefined || raw.kind === "")
    throw new EncryptionConfigError(`Object 'Kind' is missing in '${JSON.stringify(raw)}'`);
  if (raw.kind !== ENCRYPTION_CONFIG_KIND || raw.apiVersion !== ENCRYPTION_CONFIG_API_VERSION)
    throw new EncryptionConfigError(
      `no kind ${JSON.stringify(raw.kind)} is registered for version ${JSON.stringify(raw.apiVersion ?? "")}: want apiVersion ${ENCRYPTION_CONFIG_API_VERSION}, kind ${ENCRYPTION_CONFIG_KIND}`,
    );
  unknown(raw, KNOWN_FIELDS.config as string[], "");
  const keysOf = (v: unknown, path: string): { keys: EncryptionKey[] } | undefined => {
    const o = object(v ?? {}, path);
    if (!o) return undefined;
    unknown(o, KNOWN_FIELDS.keyed as string[], path);
    return {
      keys: list(o.keys, `${path}.keys`).map((k, i) => {
        const kp = `${path}.keys[${i}]`;
        const ko = object(k, kp) ?? {};
        unknown(ko, KNOWN_FIELDS.key as string[], kp);
        return { name: string(ko.name, `${kp}.name`), secret: string(ko.secret, `${kp}.secret`) };
      }),
    };
  };
  const resources = list(raw.resources, "resources").map((r, i): ResourceConfiguration => {
    const rp = `resources[${i}]`;
    const ro = object(r, rp) ?? {};
    unknown(ro, KNOWN_FIELDS.resource as string[], rp);
    return {
      resources: list(ro.resources, `${rp}.resources`).map((s, j) => string(s, `${rp}.resources[${j}]`)),
      providers: list(ro.providers, `${rp}.providers`).map((p, j): ProviderConfiguration => {
        const pp = `${rp}.providers[${j}]`;
        const po = object(p, pp) ?? {};
        unknown(po, KNOWN_FIELDS.provider as string[], pp);
        const out: ProviderConfiguration = {};
        for (const kind of ["aescbc", "aesgcm", "secretbox"] as const) {
          if (po[kind] === undefined) continue;
          const keyed = keysOf(po[kind], `${pp}.${kind}`);
          if (keyed) out[kind] = keyed;
        }
        if (po.identity !== undefined) {
          const io = object(po.identity ?? {}, `${pp}.identity`);
          if (io) unknown(io, KNOWN_FIELDS.identity as string[], `${pp}.identity`);
          out.identity = {};
        }
        if (po.kms !== undefined) out.kms = isObject(po.kms) ? po.kms : {};
        return out;
      }),
    };
  });
  if (errs.length > 0) throw new EncryptionConfigError(`strict decoding error: ${errs.join(", ")}`);
  return { apiVersion: ENCRYPTION_CONFIG_API_VERSION, kind: ENCRYPTION_CONFIG_KIND, resources };
}

function hasCapital(s: string): boolean {
  return s.toLowerCase() !== s;
}

function validateResourceNames(resources: readonly string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  resources.forEach((res, j) => {
    const p = `${path}[${j}]`;
    const gr = parseGroupResource(res);
    if (hasCapital(res)) errs.push(fieldInvalid(p, res, "resource name should not contain capital letters"));
    else if (res === "*")
      errs.push(
        fieldInvalid(
          p,
          res,
          "use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources",
        ),
      );
    else if (["apiserveripinfo", "serviceipallocations", "servicenodeportallocations"].includes(res))
      errs.push(fieldInvalid(p, res, "resources which do not have REST API/s cannot be encrypted"));
    else if (gr.group === "events.k8s.io")
      errs.push(
        fieldInvalid(
          p,
          res,
          "'*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file",
        ),
      );
    else if (gr.group === "extensions")
      errs.push(fieldInvalid(p, res, "'extensions' group has been removed and cannot be used for encryption"));
    else if (gr.group === "*" && gr.resource !== "*")
      errs.push(fieldInvalid(p, res, "encrypting the same resource across groups is not supported"));
  });
  return errs;
}

function validateResourceOverlap(resources: readonly string[], path: string): FieldError[] {
  if (resources.length < 2) return [];
  const grs = resources.map(parseGroupResource);
  let duplicate = false;
  let overlap = false;
  for (let i = 0; i < grs.length; i++) {
    for (let j = 0; j < grs.length; j++) {
      if (i === j) continue;
      const a = grs[i] as QualifiedResource;
      const b = grs[j] as QualifiedResource;
      if (a.group === b.group && a.resource === b.resource) duplicate = true;
      else if (
        (a.group === "*" && a.resource === "*") ||
        (a.group === b.group && (a.resource === "*" || b.resource === "*"))
      )
        overlap = true;
    }
  }
  const errs: FieldError[] = [];
  if (duplicate) errs.push(fieldInvalid(path, resources, "the same resource cannot be specified multiple times"));
  if (overlap)
    errs.push(
      fieldInvalid(
        path,
        resources,
        "using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked",
      ),
    );
  return errs;
}

function validateKeys(keys: readonly EncryptionKey[], path: string, sizes: readonly number[]): FieldError[] {
  if (keys.length === 0) return [fieldRequired(path, "at least one keys is required")];
  const errs: FieldError[] = [];
  keys.forEach((key, i) => {
    const p = `${path}[${i}]`;
    if (key.name === "") errs.push(fieldRequired(`${p}.name`, "name is a mandatory field for a key"));
    if (key.secret === "") {
      errs.push(fieldRequired(`${p}.secret`, "secret is a mandatory field for a key"));
      return;
    }
    // Go's StdEncoding: padded, no whitespace, nothing outside the alphabet.
    if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(key.secret)) {
      errs.push(fieldInvalid(`${p}.secret`, "REDACTED", "secrets must be base64 encoded"));
      return;
    }
    const len = Buffer.from(key.secret, "base64").length;
    if (!sizes.includes(len))
      errs.push(
        fieldInvalid(
          `${p}.secret`,
          "REDACTED",
          `secret is not of the expected length, got ${len}, expected one of [${sizes.join(" ")}]`,
        ),
      );
  });
  return errs;
}

/** upstream ValidateEncryptionConfiguration, kms refused. */
export function validateEncryptionConfiguration(c: EncryptionConfiguration): FieldError[] {
  if (c.resources.length === 0) return [fieldRequired("resources", "at least one resources is required")];
  const errs: FieldError[] = [];
  c.resources.forEach((conf, i) => {
    const r = `resources[${i}].resources`;
    const p = `resources[${i}].providers`;
    if (conf.resources.length === 0) errs.push(fieldRequired(r, `at least one ${r} is required`));
    errs.push(...validateResourceOverlap(conf.resources, r), ...validateResourceNames(conf.resources, r));
    if (conf.providers.length === 0) errs.push(fieldRequired(p, `at least one ${p} is required`));
    conf.providers.forEach((provider, j) => {
      const path = `${p}[${j}]`;
      const kinds = Object.keys(provider) as (keyof ProviderConfiguration)[];
      if (kinds.length === 0) {
        errs.push(
          fieldInvalid(
            path,
            provider,
            "provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity",
          ),
        );
        return;
      }
      if (kinds.length > 1) {
        errs.push(
          fieldInvalid(
            path,
            provider,
            "more than one provider specified in a single element, should split into different list elements",
          ),
        );
        return;
      }
      if (provider.kms)
        errs.push(fieldForbidden(`${path}.kms`, "kubeling has no KMS provider; use aescbc, aesgcm or secretbox"));
      if (provider.aesgcm) errs.push(...validateKeys(provider.aesgcm.keys, `${path}.aesgcm.keys`, AES_KEY_SIZES));
      if (provider.aescbc) errs.push(...validateKeys(provider.aescbc.keys, `${path}.aescbc.keys`, AES_KEY_SIZES));
      if (provider.secretbox)
        errs.push(...validateKeys(provider.secretbox.keys, `${path}.secretbox.keys`, [SECRETBOX_KEY_SIZE]));
    });
  });
  return errs;
}

function providerTransformer(p: ProviderConfiguration): PrefixTransformer {
  if (p.identity) return { prefix: Buffer.alloc(0), transformer: IDENTITY };
  const kind = p.aescbc ? "aescbc" : p.aesgcm ? "aesgcm" : "secretbox";
  const make = kind === "aescbc" ? cbcTransformer : kind === "aesgcm" ? gcmTransformer : secretboxTransformer;
  const keys = (p[kind] as { keys: EncryptionKey[] }).keys.map((k) => ({
    prefix: Buffer.from(`${k.name}:`),
    transformer: make(Buffer.from(k.secret, "base64")),
  }));
  const what = kind === "secretbox" ? "Secretbox" : "AES";
  return {
    prefix: Buffer.from(PROVIDER_PREFIX[kind]),
    transformer: new PrefixTransformers(keys, `no matching key was found for the provided ${what} transformer`),
  };
}

/** A loaded configuration: the transformer of each group resource it names. */
export class EncryptionConfig {
  private readonly overrides = new Map<string, Transformer>();

  /** Validates (throwing EncryptionConfigError) and builds the transformers. */
  constructor(readonly config: EncryptionConfiguration) {
    const errs = validateEncryptionConfiguration(config);
    if (errs.length > 0) throw new EncryptionConfigError(aggregate(errs));
    const lists = new Map<string, PrefixTransformer[]>();
    for (const rc of config.resources) {
      const providers = rc.providers.map(providerTransformer);
      for (const res of rc.resources) {
        const gr = parseGroupResource(res);
        // A later rule that an earlier wildcard masks would never apply (upstream refuses it too).
        for (const mask of [{ group: gr.group, resource: "*" }, ANY])
          if (lists.has(grString(mask)))
            throw new EncryptionConfigError(`resource "${grString(gr)}" is masked by earlier rule "${grString(mask)}"`);
        const key = grString(gr);
        lists.set(key, [...(lists.get(key) ?? []), ...providers]);
      }
    }
    for (const [gr, list] of lists) this.overrides.set(gr, new PrefixTransformers(list, "no matching prefix found"));
  }

  /**
   * The transformer of a resource: its own rule, else its group's ("*.apps", "*." for core),
   * else "*.*"; undefined when none applies (stored as plain JSON).
   */
  transformerFor(r: QualifiedResource): Transformer | undefined {
    return (
      this.overrides.get(grString(r)) ??
      this.overrides.get(grString({ group: r.group, resource: "*" })) ??
      this.overrides.get(grString(ANY))
    );
  }

  /** The storage's per-key lookup for the resources served, under the etcd prefix. */
  keyTransformers(prefix: string, resources: readonly QualifiedResource[]): KeyTransformers {
    const byResource = new Map<string, Transformer>();
    for (const r of resources) {
      const t = this.transformerFor(r);
      if (t) byResource.set(r.resource, t);
    }
    return new KeyTransformers(prefix, byResource);
  }

  /** Resources named by the configuration, for the start-up log. */
  get resources(): string[] {
    return [...this.overrides.keys()];
  }
}

/** upstream LoadEncryptionConfig: reads, decodes strictly, validates; errors name the file or the field. */
export function loadEncryptionConfig(path: string): EncryptionConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new EncryptionConfigError(
      `error while parsing file: error opening encryption provider configuration file ${JSON.stringify(path)}: ${(err as Error).message}`,
    );
  }
  return parseEncryptionConfig(text, path);
}

export function parseEncryptionConfig(text: string, path = "<inline>"): EncryptionConfig {
  const fail = (why: string) => new EncryptionConfigError(`error while parsing file: ${why}`);
  if (text.trim() === "") throw fail(`encryption provider configuration file ${JSON.stringify(path)} is empty`);
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw fail(`${path}: ${(err as Error).message}`);
  }
  try {
    return new EncryptionConfig(decodeStrict(raw));
  } catch (err) {
    if (err instanceof EncryptionConfigError) throw fail(err.message);
    throw err;
  }
}
