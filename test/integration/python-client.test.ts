// The official Python client (Debian's python3-kubernetes, run with /usr/bin/python3) works
// against kubeling unchanged (issue 12): CRUD, upstream's error reasons as ApiExceptions, and a
// watch, which that client asks for with `watch=True` (strconv.ParseBool's spelling, once a 400);
// a body over the size limit gets the 413 Status although the client sends it whole before reading.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { NAMESPACES } from "#pkg/api/resources.js";
import { startApiServer, type TestApiServer } from "../harness/apiserver.js";

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL("./clients", import.meta.url));
const NS = "python";

let api: TestApiServer;

before(async () => {
  api = await startApiServer();
  await api.client.create(NAMESPACES, undefined, { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
});

after(async () => {
  await api?.stop();
});

test("the Python client: create, read, patch, replace, list, errors (413 too), watch and delete", async () => {
  const { stdout } = await run("/usr/bin/python3", [join(SCRIPTS, "python-crud-watch.py"), api.kubeconfigPath, NS], {
    timeout: 60_000,
  });
  assert.deepEqual(JSON.parse(stdout), {
    created: "py",
    got: { a: "1" },
    patched: { a: "1", b: "2" },
    replaced: { a: "1", b: "2", c: "3" },
    listed: ["py"],
    missing: [404, "NotFound"],
    invalid: [422, "Invalid"],
    too_large: [413, "RequestEntityTooLarge"],
    events: [
      ["MODIFIED", "py", ["a", "b"]],
      ["MODIFIED", "py", ["a", "b", "c"]],
    ],
    after_delete: [],
  });
});
