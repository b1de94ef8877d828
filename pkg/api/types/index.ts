// All kubeling API types and their schemas. Types: `import type { Pod } from "#pkg/api/types/index.js"`.

export * from "./apps.js";
export * from "./authentication.js";
export * from "./authorization.js";
export * from "./autoscaling.js";
export * from "./batch.js";
export * from "./coordination.js";
export * from "./core.js";
export * from "./discovery.js";
export * from "./meta.js";
export * from "./policy.js";
export * from "./rbac.js";
export * from "./scheduling.js";
export * from "./schemas.js";
export * from "./storage.js";
