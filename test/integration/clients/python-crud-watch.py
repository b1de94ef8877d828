# The official Python client (Debian's python3-kubernetes) against kubeling: CRUD, a 404, a 422 and
# a 413 as ApiExceptions, and a watch (the client sends watch=True). Prints one JSON line of what it saw.
import json
import sys

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
ns = sys.argv[2]
out = {}

created = v1.create_namespaced_config_map(
    ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py", labels={"from": "python"}), data={"a": "1"})
)
out["created"] = created.metadata.name
out["got"] = v1.read_namespaced_config_map("py", ns).data
out["patched"] = v1.patch_namespaced_config_map("py", ns, {"data": {"b": "2"}}).data
replaced = v1.read_namespaced_config_map("py", ns)
replaced.data["c"] = "3"
out["replaced"] = v1.replace_namespaced_config_map("py", ns, replaced).data
out["listed"] = [i.metadata.name for i in v1.list_namespaced_config_map(ns, label_selector="from=python").items]
try:
    v1.read_namespaced_config_map("missing", ns)
except ApiException as e:
    out["missing"] = [e.status, json.loads(e.body)["reason"]]
try:
    v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="Bad_Name")))
except ApiException as e:
    out["invalid"] = [e.status, json.loads(e.body)["reason"]]

# A body over the API server's limit (3 MiB), which this client sends whole before reading: the
# 413 Status, not a connection torn down mid-upload.
try:
    v1.create_namespaced_config_map(
        ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="big"), data={"a": "x" * (20 * 1024 * 1024)})
    )
except ApiException as e:
    out["too_large"] = [e.status, json.loads(e.body)["reason"]]

# From the create's resourceVersion: the patch and the replace, in order.
events = []
w = watch.Watch()
for ev in w.stream(
    v1.list_namespaced_config_map, ns, resource_version=created.metadata.resource_version, timeout_seconds=20
):
    events.append([ev["type"], ev["object"].metadata.name, sorted((ev["object"].data or {}).keys())])
    if len(events) == 2:
        w.stop()
out["events"] = events
v1.delete_namespaced_config_map("py", ns)
out["after_delete"] = [i.metadata.name for i in v1.list_namespaced_config_map(ns).items]
print(json.dumps(out))
