import assert from "node:assert/strict";
import { test } from "node:test";
import { newSelfSigned } from "#pkg/pki/certs.js";
import { CliError } from "../errors.js";
import {
  configMapFor,
  configMapHash,
  dockerRegistrySecretFor,
  envFileEntries,
  genericSecretFor,
  parseFileSource,
  parseLiteralSource,
  type SourceReader,
  secretHash,
  tlsSecretFor,
} from "./createconfig.js";

/** An in-memory file tree: paths ending in "/" are directories. */
function reader(files: Record<string, string | Buffer>, env: Record<string, string> = {}): SourceReader {
  return {
    readFile(path) {
      const f = files[path];
      if (f === undefined) throw new CliError(`error: open ${path}: no such file or directory`);
      return Buffer.isBuffer(f) ? f : Buffer.from(f);
    },
    kind: (path) => (`${path}/` in files ? "dir" : path in files ? "file" : undefined),
    regularFiles: (dir) =>
      Object.keys(files)
        .filter((p) => p.startsWith(`${dir}/`) && !p.endsWith("/") && !p.slice(dir.length + 1).includes("/"))
        .map((p) => p.slice(dir.length + 1))
        .sort(),
    env: (name) => env[name],
  };
}

const rejects = (f: () => unknown, message: string) =>
  assert.throws(f, (err: Error) => err instanceof CliError && err.message === message);

test("literal and file sources parse as kubectl's", () => {
  assert.deepEqual(parseLiteralSource("k=a=b"), ["k", "a=b"]);
  assert.deepEqual(parseLiteralSource("k='q'"), ["k", "'q'"]);
  rejects(() => parseLiteralSource("=v"), "error: invalid literal source =v, expected key=value");
  rejects(() => parseLiteralSource("k"), "error: invalid literal source k, expected key=value");
  assert.deepEqual(parseFileSource("/a/b.txt"), ["b.txt", "/a/b.txt"]);
  assert.deepEqual(parseFileSource("key=/a/b.txt"), ["key", "/a/b.txt"]);
  rejects(() => parseFileSource("=/a"), "error: key name for file path /a missing");
  rejects(() => parseFileSource("k="), "error: file path for key name k missing");
  rejects(() => parseFileSource("a=b=c"), "error: key names or file paths cannot contain '='");
});

test("env files: BOM, blanks, comments, values verbatim, a bare key from the environment", () => {
  const entries = envFileEntries(Buffer.from("\uFEFFA=1\r\n  B= two words \n# no\n\nFROM_ENV\nR=x=y\n"), (n) =>
    n === "FROM_ENV" ? "env-value" : undefined,
  );
  assert.deepEqual(entries, [
    ["A", "1"],
    ["B", " two words "],
    ["FROM_ENV", "env-value"],
    ["R", "x=y"],
  ]);
  assert.deepEqual(
    envFileEntries(Buffer.from("UNSET\n"), () => undefined),
    [["UNSET", ""]],
  );
  assert.throws(
    () => envFileEntries(Buffer.from("2B=x\n"), () => undefined),
    /"2B" is not a valid key name: a valid environment variable name/,
  );
  rejects(
    () => envFileEntries(Buffer.from("..B=x\n"), () => undefined),
    `error: "..B" is not a valid key name: must not start with '..'`,
  );
});

test("configmap: a directory's regular files, key=path, literals; non-UTF-8 files in binaryData; keys sorted", () => {
  const r = reader({
    "/d/": "",
    "/d/one": "x",
    "/d/bin": Buffer.from([0xff, 0xfe]),
    "/d/sub/": "",
    "/f.txt": "hello\n",
  });
  const cm = configMapFor("c", { fromFile: ["/d,k=/f.txt"], fromLiteral: ["lit=v"] }, r);
  assert.deepEqual(cm, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c" },
    data: { k: "hello\n", lit: "v", one: "x" },
    binaryData: { bin: "//4=" },
  });
  assert.deepEqual(Object.keys(cm.data ?? {}), ["k", "lit", "one"]);
  // kubectl's hash of the same ConfigMap (kubectl create cm c --from-file=d,k=f.txt --append-hash).
  assert.equal(configMapHash(configMapFor("c2", { fromFile: ["/d,k=/f.txt"] }, r)), "6kk96c2kkt");
  rejects(() => configMapFor("x", { fromFile: ["k=/d"] }, r), "error: cannot give a key name for a directory path");
  rejects(() => configMapFor("x", { fromFile: ["/nope"] }, r), "error: error reading /nope: no such file or directory");
  rejects(
    () => configMapFor("x", { fromLiteral: ["k=v", "k=w"] }, r),
    'error: cannot add key "k", another key by that name already exists in Data for ConfigMap "x"',
  );
  rejects(
    () => configMapFor("x", { fromFile: ["bin=/d/bin"], fromLiteral: ["bin=w"] }, r),
    'error: cannot add key "bin", another key by that name already exists in BinaryData for ConfigMap "x"',
  );
  assert.throws(
    () => configMapFor("x", { fromLiteral: ["a b=1"] }, r),
    /^CliError: error: "a b" is not a valid key name for a ConfigMap: a valid config key must consist of/,
  );
  rejects(
    () => configMapFor("x", { fromEnvFile: ["/f.txt"], fromLiteral: ["a=b"] }, r),
    "error: from-env-file cannot be combined with from-file or from-literal",
  );
  rejects(() => configMapFor("x", { fromEnvFile: ["/d"] }, r), "error: env config file cannot be a directory");
});

test("secret generic: literals, files and env files base64-encoded, --type, kubectl's hash and messages", () => {
  const r = reader({
    "/d/": "",
    "/d/one": "x",
    "/d/bin": Buffer.from([0xff, 0xfe]),
    "/a.env": "A=1\n",
    "/b.env": "A=2\n",
  });
  const s = genericSecretFor("s", { fromFile: ["/d"], fromLiteral: ["a=b"] }, r);
  assert.deepEqual(s, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "s" },
    data: { a: "Yg==", bin: "//4=", one: "eA==" },
  });
  assert.equal(secretHash(s), "h625km5564");
  assert.equal(
    secretHash(genericSecretFor("s", { fromFile: ["/d"], fromLiteral: ["a=b"], type: "x/y" }, r)),
    "m79g9h4gt2",
  );
  assert.deepEqual(genericSecretFor("e", { fromEnvFile: ["/a.env"] }, r).data, { A: "MQ==" });
  rejects(
    () => genericSecretFor("e", { fromEnvFile: ["/a.env,/b.env"] }, r),
    "error: cannot add key A, another key by that name already exists",
  );
  rejects(() => genericSecretFor("e", { fromEnvFile: ["/d"] }, r), "error: env secret file cannot be a directory");
});

test("secret tls: the pair must match; docker-registry: kubectl's .dockerconfigjson", async () => {
  const pair = await newSelfSigned({ commonName: "tls.example" });
  const other = await newSelfSigned({ commonName: "other.example" });
  const r = reader({ "/tls.crt": pair.cert, "/tls.key": pair.key, "/other.key": other.key, "/t": "x" });
  assert.deepEqual(tlsSecretFor("t", { cert: "/tls.crt", key: "/tls.key" }, r), {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "t" },
    data: { "tls.crt": Buffer.from(pair.cert).toString("base64"), "tls.key": Buffer.from(pair.key).toString("base64") },
    type: "kubernetes.io/tls",
  });
  rejects(
    () => tlsSecretFor("t", { cert: "/tls.crt", key: "/other.key" }, r),
    "error: tls: private key does not match public key",
  );
  rejects(() => tlsSecretFor("t", { cert: "/t" }, r), "error: key and cert must be specified");
  rejects(
    () => tlsSecretFor("t", { cert: "/t", key: "/tls.key" }, r),
    "error: tls: failed to find any PEM data in certificate input",
  );
  rejects(
    () => tlsSecretFor("t", { cert: "/tls.crt", key: "/t" }, r),
    "error: tls: failed to find any PEM data in key input",
  );
  rejects(
    () => tlsSecretFor("t", { cert: "/none", key: "/tls.key" }, r),
    "error: Cannot read file /none, open /none: no such file or directory",
  );

  const d = dockerRegistrySecretFor("r", {
    dockerServer: "reg<x>:5000",
    dockerUsername: "u",
    dockerPassword: "p",
    dockerEmail: "e@x",
  });
  assert.equal(d.type, "kubernetes.io/dockerconfigjson");
  assert.equal(
    Buffer.from(d.data?.[".dockerconfigjson"] ?? "", "base64").toString(),
    '{"auths":{"reg\\u003cx\\u003e:5000":{"username":"u","password":"p","email":"e@x","auth":"dTpw"}}}',
  );
  rejects(
    () => dockerRegistrySecretFor("r", { dockerServer: "https://index.docker.io/v1/", dockerUsername: "u" }),
    "error: either --from-file or the combination of --docker-username, --docker-password and --docker-server is required",
  );
  assert.deepEqual(dockerRegistrySecretFor("r", { dockerServer: "s", fromFile: [".dockerconfigjson=/t"] }, r).data, {
    ".dockerconfigjson": "eA==",
  });
});
