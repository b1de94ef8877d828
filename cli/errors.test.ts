import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { StatusError } from "#pkg/api/errors.js";
import { exitCodeFromStatus } from "./commands/exec.js";
import { formatError } from "./errors.js";

describe("error messages", () => {
  test("Status errors render as kubectl does", () => {
    assert.equal(
      formatError(new StatusError(404, "NotFound", 'pods "x" not found')),
      'Error from server (NotFound): pods "x" not found',
    );
    assert.equal(
      formatError(new StatusError(401, "Unauthorized", "Unauthorized")),
      "error: You must be logged in to the server (Unauthorized)",
    );
    assert.equal(
      formatError(new StatusError(409, "AlreadyExists", 'deployments.apps "web" already exists'), {
        verb: "creating",
        source: "x.yaml",
      }),
      'Error from server (AlreadyExists): error when creating "x.yaml": deployments.apps "web" already exists',
    );
  });

  test("Invalid: kubectl's 'The <Kind> \"name\" is invalid' report, causes one per line when several", () => {
    const one = new StatusError(422, "Invalid", 'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1', {
      kind: "Deployment",
      group: "apps",
      name: "web",
      causes: [
        {
          reason: "FieldValueInvalid",
          field: "spec.replicas",
          message: "Invalid value: -1: must be greater than or equal to 0",
        },
      ],
    });
    assert.equal(
      formatError(one, { verb: "creating", source: "x.yaml" }),
      'The Deployment "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
    );
    const two = new StatusError(422, "Invalid", "...", {
      kind: "ReplicationController",
      name: "rc",
      causes: [
        { reason: "FieldValueRequired", field: "spec.selector", message: "Required value" },
        { reason: "FieldValueRequired", field: "spec.template", message: "Required value" },
      ],
    });
    assert.equal(
      formatError(two),
      'The ReplicationController "rc" is invalid: \n* spec.selector: Required value\n* spec.template: Required value',
    );
  });

  test("connection failures name the address", () => {
    const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" });
    const err = new Error("cannot reach the API server at https://127.0.0.1:6443: connect ECONNREFUSED", { cause });
    assert.equal(
      formatError(err, { server: "https://127.0.0.1:6443" }),
      "Unable to connect to the server: dial tcp 127.0.0.1:6443: connect: connection refused",
    );
  });

  test("exec status channel: exit codes", () => {
    assert.deepEqual(exitCodeFromStatus({ status: "Success" }), { code: 0 });
    assert.deepEqual(
      exitCodeFromStatus({
        status: "Failure",
        reason: "NonZeroExitCode",
        details: { causes: [{ reason: "ExitCode", message: "3" }] },
      }),
      { code: 3, message: "command terminated with exit code 3" },
    );
  });
});
