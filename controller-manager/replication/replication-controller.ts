// The ReplicationController controller (upstream pkg/controller/replication, the
// "replicationmanager"): the ReplicaSet controller's code run over ReplicationControllers. Upstream
// converts each RC to a ReplicaSet and back; here the controller is generic over the kind, and
// what an RC changes is only this: its resource, its equality-map selector and its event source.

import { type Selector, selectorFromSet } from "#pkg/api/labels.js";
import { REPLICATIONCONTROLLERS } from "#pkg/api/resources.js";
import type { ReplicationController } from "#pkg/api/types/core.js";
import type { ControllerInit } from "../controller.js";
import { ReplicaSetController, type ReplicaSetKind } from "../replicaset/replica-set.js";

/** An RC's selector (labels.SelectorFromSet); an empty one selects nothing, as validation forbids it. */
export function replicationControllerSelector(rc: ReplicationController): Selector | undefined {
  try {
    const sel = selectorFromSet(rc.spec?.selector);
    return sel.empty ? undefined : sel;
  } catch {
    return undefined;
  }
}

export const REPLICATION_CONTROLLER_KIND: ReplicaSetKind<ReplicationController> = {
  name: "replicationcontroller",
  resource: REPLICATIONCONTROLLERS,
  eventSource: "replication-controller",
  selector: replicationControllerSelector,
};

export const newReplicationController: ControllerInit = (ctx) =>
  new ReplicaSetController(ctx, REPLICATION_CONTROLLER_KIND);
