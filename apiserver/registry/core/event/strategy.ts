// core/v1 Event (upstream pkg/registry/core/event/strategy.go, printers.go).

import { formatAge } from "#pkg/api/duration.js";
import { type FieldError, fieldInvalid, fieldNotSupported, fieldRequired } from "#pkg/api/errors.js";
import type { ResourceInfo } from "#pkg/api/resources.js";
import type { Event } from "#pkg/api/types/core.js";
import { type Cell, col, makeStrategy, nameCol } from "../../common.js";
import type { Strategy } from "../../strategy.js";

function eventTime(t: string | null | undefined, now: Date): string | undefined {
  return t ? formatAge(t, now) : undefined;
}

function validateEvent(ev: Event): FieldError[] {
  const errs: FieldError[] = [];
  if (!ev.involvedObject || typeof ev.involvedObject !== "object") return [fieldRequired("involvedObject")];
  const ns = ev.involvedObject.namespace;
  if (ns && ev.metadata.namespace && ns !== ev.metadata.namespace) {
    errs.push(fieldInvalid("involvedObject.namespace", ns, "does not match event.namespace"));
  }
  if (ev.type !== undefined && ev.type !== "" && !["Normal", "Warning"].includes(ev.type)) {
    errs.push(fieldNotSupported("type", ev.type, ["Normal", "Warning"]));
  }
  if ((ev.count ?? 0) < 0) errs.push(fieldInvalid("count", ev.count, "must be greater than or equal to 0"));
  return errs;
}

export function eventStrategy(r: ResourceInfo): Strategy<Event> {
  return makeStrategy<Event>(
    r,
    {
      allowCreateOnUpdate: true,
      // Upstream: events never get the garbage collector's finalizers.
      defaultGarbageCollectionPolicy: "Unsupported",
      validate: validateEvent,
      validateUpdate: validateEvent,
      selectableFields(ev) {
        const io = ev.involvedObject ?? {};
        return {
          "involvedObject.kind": io.kind ?? "",
          "involvedObject.namespace": io.namespace ?? "",
          "involvedObject.name": io.name ?? "",
          "involvedObject.uid": io.uid ?? "",
          "involvedObject.apiVersion": io.apiVersion ?? "",
          "involvedObject.resourceVersion": io.resourceVersion ?? "",
          "involvedObject.fieldPath": io.fieldPath ?? "",
          reason: ev.reason ?? "",
          reportingComponent: ev.reportingComponent ?? "",
          source: ev.source?.component || ev.reportingComponent || "",
          type: ev.type ?? "",
        };
      },
      columns: [
        col("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded."),
        col("Type", "string", "Type of this event (Normal, Warning), new types could be added in the future"),
        col(
          "Reason",
          "string",
          "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
        ),
        col("Object", "string", "The object that this event is about"),
        col(
          "Subobject",
          "string",
          "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement.",
          1,
        ),
        col(
          "Source",
          "string",
          "The component reporting this event. Should be a short machine understandable string.",
          1,
        ),
        col("Message", "string", "A human-readable description of the status of this operation."),
        col(
          "First Seen",
          "string",
          "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
          1,
        ),
        col("Count", "string", "The number of times this event has occurred.", 1),
        { ...nameCol(), priority: 1 },
      ],
      row(ev, now) {
        const first = eventTime(ev.firstTimestamp, now) ?? eventTime(ev.eventTime, now) ?? "<unknown>";
        let last = eventTime(ev.lastTimestamp, now) ?? first;
        let count = ev.count ?? 0;
        if (ev.series) {
          last = eventTime(ev.series.lastObservedTime, now) ?? last;
          count = ev.series.count ?? count;
        } else if (count === 0) count = 1;
        const io = ev.involvedObject ?? {};
        const kind = (io.kind ?? "").toLowerCase();
        const target = io.name ? `${kind}/${io.name}` : kind;
        const component = ev.source?.component || ev.reportingComponent || "";
        const instance = ev.source?.host || ev.reportingInstance || "";
        const source = instance ? `${component}, ${instance}` : component;
        const cells: Cell[] = [
          last,
          ev.type ?? "",
          ev.reason ?? "",
          target,
          io.fieldPath ?? "",
          source,
          (ev.message ?? "").trim(),
          first,
          count,
          ev.metadata.name ?? "",
        ];
        return cells;
      },
    },
    { hasStatus: false },
  );
}
