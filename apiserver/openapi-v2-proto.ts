// The protobuf form of /openapi/v2: gnostic's openapi.v2.Document, which client-go's discovery
// OpenAPISchema() asks for (Accept application/com.github.proto-openapi.spec.v2@v1.0+protobuf)
// and kubectl 1.27/1.28 read for explain --output=plaintext-openapiv2, client-side apply's patch
// metadata and client-side validation. Only the messages and fields kubeling's document uses are
// declared; their field numbers are gnostic's (openapiv2/OpenAPIv2.proto), facts of the wire.
//
// gnostic writes JSON maps as repeated {name, value} pairs in the JSON's order, vendor
// extensions (x-kubernetes-*) as Any{yaml: text} (kube-openapi's parser yaml-decodes the text; we
// write JSON, which is YAML), and oneofs for parameters (body or non-body: query / path) and
// responses. toMessage() maps the Swagger JSON onto those messages, fromMessage() back; anything
// in the JSON that has no mapping here throws, so the two forms cannot drift apart silently.

import protobuf from "protobufjs";

const PROTO = `
syntax = "proto3";
package openapi.v2;

message AdditionalPropertiesItem { oneof oneof { Schema schema = 1; bool boolean = 2; } }
message Any { string yaml = 2; }
message ApiKeySecurity { string type = 1; string name = 2; string in = 3; string description = 4; }
message BodyParameter {
  string description = 1; string name = 2; string in = 3; bool required = 4; Schema schema = 5;
}
message Definitions { repeated NamedSchema additional_properties = 1; }
message Document {
  string swagger = 1; Info info = 2; Paths paths = 8; Definitions definitions = 9;
  repeated SecurityRequirement security = 12; SecurityDefinitions security_definitions = 13;
}
message Info { string title = 1; string version = 2; string description = 3; }
message ItemsItem { repeated Schema schema = 1; }
message NamedAny { string name = 1; Any value = 2; }
message NamedPathItem { string name = 1; PathItem value = 2; }
message NamedResponseValue { string name = 1; ResponseValue value = 2; }
message NamedSchema { string name = 1; Schema value = 2; }
message NamedSecurityDefinitionsItem { string name = 1; SecurityDefinitionsItem value = 2; }
message NamedStringArray { string name = 1; StringArray value = 2; }
message NonBodyParameter {
  oneof oneof { QueryParameterSubSchema query_parameter_sub_schema = 3; PathParameterSubSchema path_parameter_sub_schema = 4; }
}
message Operation {
  repeated string tags = 1; string description = 3; string operation_id = 5; repeated string produces = 6;
  repeated string consumes = 7; repeated ParametersItem parameters = 8; Responses responses = 9;
  repeated string schemes = 10; repeated NamedAny vendor_extension = 13;
}
message Parameter { oneof oneof { BodyParameter body_parameter = 1; NonBodyParameter non_body_parameter = 2; } }
message ParametersItem { oneof oneof { Parameter parameter = 1; } }
message PathItem {
  Operation get = 2; Operation put = 3; Operation post = 4; Operation delete = 5; Operation patch = 8;
  repeated ParametersItem parameters = 9;
}
message PathParameterSubSchema {
  bool required = 1; string in = 2; string description = 3; string name = 4; string type = 5; bool unique_items = 19;
}
message Paths { repeated NamedPathItem path = 2; }
message Properties { repeated NamedSchema additional_properties = 1; }
message QueryParameterSubSchema {
  bool required = 1; string in = 2; string description = 3; string name = 4; string type = 6; bool unique_items = 20;
}
message Response { string description = 1; SchemaItem schema = 2; }
message ResponseValue { oneof oneof { Response response = 1; } }
message Responses { repeated NamedResponseValue response_code = 1; }
message Schema {
  string _ref = 1; string format = 2; string description = 4; repeated string required = 19;
  repeated Any enum = 20; AdditionalPropertiesItem additional_properties = 21; TypeItem type = 22;
  ItemsItem items = 23; Properties properties = 25; repeated NamedAny vendor_extension = 31;
}
message SchemaItem { oneof oneof { Schema schema = 1; } }
message SecurityDefinitions { repeated NamedSecurityDefinitionsItem additional_properties = 1; }
message SecurityDefinitionsItem { oneof oneof { ApiKeySecurity api_key_security = 2; } }
message SecurityRequirement { repeated NamedStringArray additional_properties = 1; }
message StringArray { repeated string value = 1; }
message TypeItem { repeated string value = 1; }
`;

const root = protobuf.parse(PROTO, { keepCase: true }).root;
const DocumentType = root.lookupType("openapi.v2.Document");

type Json = Record<string, unknown>;
type Msg = Record<string, unknown>;

function fail(where: string, key: string): never {
  throw new Error(`openapi v2 protobuf: no mapping for ${JSON.stringify(key)} in ${where}`);
}

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

// ---------------------------------------------------------------- JSON -> message

const anyOf = (v: unknown): Msg => ({ yaml: JSON.stringify(v) });
const named = <T>(o: Json, f: (v: unknown) => T) => Object.entries(o).map(([name, v]) => ({ name, value: f(v) }));

function vendorExtensions(o: Json): Msg[] {
  return Object.entries(o)
    .filter(([k]) => k.startsWith("x-"))
    .map(([name, v]) => ({ name, value: anyOf(v) }));
}

function schemaMsg(s: unknown): Msg {
  if (!isObj(s)) throw new Error("openapi v2 protobuf: a schema must be an object");
  const m: Msg = {};
  for (const [k, v] of Object.entries(s)) {
    switch (k) {
      case "$ref":
        m._ref = v;
        break;
      case "format":
      case "description":
        m[k] = v;
        break;
      case "required":
        m.required = v;
        break;
      case "enum":
        m.enum = (v as unknown[]).map(anyOf);
        break;
      case "additionalProperties":
        m.additional_properties = typeof v === "boolean" ? { boolean: v } : { schema: schemaMsg(v) };
        break;
      case "type":
        m.type = { value: Array.isArray(v) ? v : [v] };
        break;
      case "items":
        m.items = { schema: (Array.isArray(v) ? v : [v]).map(schemaMsg) };
        break;
      case "properties":
        m.properties = { additional_properties: named(v as Json, schemaMsg) };
        break;
      default:
        if (!k.startsWith("x-")) fail("a schema", k);
    }
  }
  const ext = vendorExtensions(s);
  if (ext.length) m.vendor_extension = ext;
  return m;
}

function parameterMsg(p: unknown): Msg {
  if (!isObj(p)) throw new Error("openapi v2 protobuf: a parameter must be an object");
  if (p.in === "body") {
    for (const k of Object.keys(p))
      if (!["description", "name", "in", "required", "schema"].includes(k)) fail("a body parameter", k);
    const { schema, ...rest } = p;
    return { parameter: { body_parameter: { ...rest, schema: schemaMsg(schema) } } };
  }
  const sub: Msg = {};
  for (const [k, v] of Object.entries(p)) {
    if (k === "uniqueItems") sub.unique_items = v;
    else if (["required", "in", "description", "name", "type"].includes(k)) sub[k] = v;
    else fail("a parameter", k);
  }
  const which = p.in === "path" ? "path_parameter_sub_schema" : p.in === "query" ? "query_parameter_sub_schema" : "";
  if (!which) fail("a parameter's in", String(p.in));
  return { parameter: { non_body_parameter: { [which]: sub } } };
}

function responseMsg(r: unknown): Msg {
  if (!isObj(r)) throw new Error("openapi v2 protobuf: a response must be an object");
  const m: Msg = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === "description") m.description = v;
    else if (k === "schema") m.schema = { schema: schemaMsg(v) };
    else fail("a response", k);
  }
  return { response: m };
}

function operationMsg(o: unknown): Msg {
  if (!isObj(o)) throw new Error("openapi v2 protobuf: an operation must be an object");
  const m: Msg = {};
  for (const [k, v] of Object.entries(o)) {
    if (["tags", "description", "produces", "consumes", "schemes"].includes(k)) m[k] = v;
    else if (k === "operationId") m.operation_id = v;
    else if (k === "parameters") m.parameters = (v as unknown[]).map(parameterMsg);
    else if (k === "responses") m.responses = { response_code: named(v as Json, responseMsg) };
    else if (!k.startsWith("x-")) fail("an operation", k);
  }
  const ext = vendorExtensions(o);
  if (ext.length) m.vendor_extension = ext;
  return m;
}

const METHODS = ["get", "put", "post", "delete", "patch"] as const;

function pathItemMsg(p: unknown): Msg {
  if (!isObj(p)) throw new Error("openapi v2 protobuf: a path item must be an object");
  const m: Msg = {};
  for (const [k, v] of Object.entries(p)) {
    if ((METHODS as readonly string[]).includes(k)) m[k] = operationMsg(v);
    else if (k === "parameters") m.parameters = (v as unknown[]).map(parameterMsg);
    else fail("a path item", k);
  }
  return m;
}

function securityDefinitionMsg(d: unknown): Msg {
  if (!isObj(d) || d.type !== "apiKey") throw new Error("openapi v2 protobuf: only apiKey security definitions");
  for (const k of Object.keys(d))
    if (!["type", "name", "in", "description"].includes(k)) fail("a security definition", k);
  return { api_key_security: d };
}

/** The gnostic message (as a plain object) of a Swagger 2.0 JSON document. */
export function toMessage(doc: Json): Msg {
  const m: Msg = {};
  for (const [k, v] of Object.entries(doc)) {
    switch (k) {
      case "swagger":
        m.swagger = v;
        break;
      case "info":
        for (const ik of Object.keys(v as Json))
          if (!["title", "version", "description"].includes(ik)) fail("info", ik);
        m.info = v;
        break;
      case "paths":
        m.paths = { path: named(v as Json, pathItemMsg) };
        break;
      case "definitions":
        m.definitions = { additional_properties: named(v as Json, schemaMsg) };
        break;
      case "securityDefinitions":
        m.security_definitions = { additional_properties: named(v as Json, securityDefinitionMsg) };
        break;
      case "security":
        m.security = (v as Json[]).map((req) => ({
          additional_properties: named(req, (scopes) => ({ value: scopes })),
        }));
        break;
      default:
        fail("the document", k);
    }
  }
  return m;
}

/** Encodes a Swagger 2.0 JSON document as gnostic's openapi.v2.Document. */
export function encodeDocument(doc: Json): Buffer {
  const msg = DocumentType.fromObject(toMessage(doc));
  return Buffer.from(DocumentType.encode(msg).finish());
}

// ---------------------------------------------------------------- message -> JSON

const unnamed = <T>(list: unknown, f: (v: Msg) => T): Json =>
  Object.fromEntries(((list as Msg[] | undefined) ?? []).map((e) => [e.name as string, f((e.value ?? {}) as Msg)]));
const yamlOf = (a: Msg): unknown => JSON.parse((a.yaml as string | undefined) ?? "null");

function withExtensions(out: Json, m: Msg): Json {
  for (const e of (m.vendor_extension as Msg[] | undefined) ?? [])
    out[e.name as string] = yamlOf((e.value ?? {}) as Msg);
  return out;
}

function schemaJson(m: Msg): Json {
  const out: Json = {};
  if (m._ref) out.$ref = m._ref;
  if (m.format) out.format = m.format;
  if (m.description) out.description = m.description;
  if (Array.isArray(m.required) && m.required.length) out.required = m.required;
  if (Array.isArray(m.enum) && m.enum.length) out.enum = (m.enum as Msg[]).map(yamlOf);
  const ap = m.additional_properties as Msg | undefined;
  if (ap) out.additionalProperties = ap.schema ? schemaJson(ap.schema as Msg) : ap.boolean === true;
  const t = (m.type as Msg | undefined)?.value as string[] | undefined;
  if (t?.length) out.type = t.length === 1 ? t[0] : t;
  const items = (m.items as Msg | undefined)?.schema as Msg[] | undefined;
  if (items?.length) out.items = items.length === 1 ? schemaJson(items[0] as Msg) : items.map(schemaJson);
  if (m.properties) out.properties = unnamed((m.properties as Msg).additional_properties, schemaJson);
  return withExtensions(out, m);
}

function parameterJson(m: Msg): Json {
  const p = (m.parameter ?? {}) as Msg;
  if (p.body_parameter) {
    const { schema, ...rest } = p.body_parameter as Msg;
    return { ...rest, ...(schema ? { schema: schemaJson(schema as Msg) } : {}) };
  }
  const nb = (p.non_body_parameter ?? {}) as Msg;
  const { unique_items, ...rest } = (nb.query_parameter_sub_schema ?? nb.path_parameter_sub_schema ?? {}) as Msg;
  return { ...rest, ...(unique_items === undefined ? {} : { uniqueItems: unique_items }) };
}

function operationJson(m: Msg): Json {
  const out: Json = {};
  for (const k of ["tags", "description", "produces", "consumes", "schemes"])
    if (m[k] !== undefined && !(Array.isArray(m[k]) && (m[k] as unknown[]).length === 0)) out[k] = m[k];
  if (m.operation_id) out.operationId = m.operation_id;
  if (Array.isArray(m.parameters) && m.parameters.length) out.parameters = (m.parameters as Msg[]).map(parameterJson);
  if (m.responses)
    out.responses = unnamed((m.responses as Msg).response_code, (rv) => {
      const r = (rv.response ?? {}) as Msg;
      const schema = (r.schema as Msg | undefined)?.schema as Msg | undefined;
      return {
        ...(r.description === undefined ? {} : { description: r.description }),
        ...(schema ? { schema: schemaJson(schema) } : {}),
      };
    });
  return withExtensions(out, m);
}

/** Decodes gnostic's openapi.v2.Document back into Swagger 2.0 JSON (for tests and tools). */
export function decodeDocument(bytes: Uint8Array): Json {
  const m = DocumentType.toObject(DocumentType.decode(bytes), { longs: Number }) as Msg;
  const out: Json = {};
  if (m.swagger) out.swagger = m.swagger;
  if (m.info) out.info = m.info;
  if (m.paths)
    out.paths = unnamed((m.paths as Msg).path, (pi) => {
      const item: Json = {};
      for (const method of METHODS) if (pi[method]) item[method] = operationJson(pi[method] as Msg);
      if (Array.isArray(pi.parameters)) item.parameters = (pi.parameters as Msg[]).map(parameterJson);
      return item;
    });
  if (m.definitions) out.definitions = unnamed((m.definitions as Msg).additional_properties, schemaJson);
  if (m.security_definitions)
    out.securityDefinitions = unnamed(
      (m.security_definitions as Msg).additional_properties,
      (d) => d.api_key_security as Json,
    );
  if (Array.isArray(m.security))
    out.security = (m.security as Msg[]).map((req) =>
      unnamed(req.additional_properties, (sa) => (sa.value as string[] | undefined) ?? []),
    );
  return out;
}
