import assert from "node:assert/strict";
import { test } from "node:test";
import { TABLE_ACCEPT } from "#pkg/api/table.js";
import { negotiate } from "./negotiate.js";

test("negotiate: kubectl's Accept headers", () => {
  assert.deepEqual(negotiate(undefined), { type: "json" });
  assert.deepEqual(negotiate("application/json, */*"), { type: "json" });
  assert.deepEqual(negotiate(TABLE_ACCEPT), { type: "table", version: "v1" });
  assert.deepEqual(negotiate("application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"), {
    type: "table",
    version: "v1beta1",
  });
  assert.deepEqual(negotiate("application/vnd.kubernetes.protobuf,application/json"), {
    type: "protobuf",
    acceptsJson: true,
  });
  assert.deepEqual(negotiate("application/vnd.kubernetes.protobuf"), { type: "protobuf", acceptsJson: false });
  assert.deepEqual(negotiate("application/json, application/vnd.kubernetes.protobuf"), { type: "json" });
  // A protobuf Table is not served: the JSON Table that follows is.
  assert.deepEqual(
    negotiate(
      "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1;g=meta.k8s.io",
    ),
    { type: "table", version: "v1" },
  );
  assert.deepEqual(
    negotiate(
      "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
    ),
    { type: "discovery", version: "v2" },
  );
  // A Table only in protobuf does not exist (406), nor does protobuf PartialObjectMetadata, which
  // falls through to the plain JSON after it.
  assert.deepEqual(negotiate("application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io"), {
    type: "unacceptable",
  });
  assert.deepEqual(
    negotiate("application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"),
    { type: "json" },
  );
  // An "as=" we don't serve falls through to the next range.
  assert.deepEqual(negotiate("application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"), {
    type: "json",
  });
});
