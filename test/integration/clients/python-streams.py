# The official Python client (Debian's python3-kubernetes) against kubeling with a kubelet on Docker:
# exec (output, stdout and stderr apart, the exit code from the status channel), port-forward (bytes
# through an echo server in the pod), logs (plain, and followed: a line written after the stream
# started), and an informer-like watch resumed from its last resourceVersion. Prints one JSON line.
# The pod (argv[3]) runs `nc -ll -p 7000 -e cat` and copies what is written to /tmp/log to its log.
import json
import sys

from kubernetes import client, config, watch
from kubernetes.stream import portforward, stream

config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
ns, pod = sys.argv[2], sys.argv[3]
out = {}


def run(command, **kw):
    return stream(
        v1.connect_get_namespaced_pod_exec,
        pod,
        ns,
        command=command,
        stdin=False,
        stdout=True,
        stderr=True,
        tty=False,
        **kw,
    )


# exec, the simple form: the output as one string once the command is done.
out["exec"] = run(["sh", "-c", "echo out-py"])
# exec with the session kept: stdout and stderr apart, and the exit code.
ws = run(["sh", "-c", "echo out; echo err >&2; exit 3"], _preload_content=False)
ws.run_forever(timeout=20)
out["exec_streams"] = [ws.read_stdout(), ws.read_stderr(), ws.returncode]
ok = run(["true"], _preload_content=False)
ok.run_forever(timeout=20)
out["exec_ok"] = ok.returncode
# exec with stdin: a line written to the command, which echoes it and exits.
sh = stream(
    v1.connect_get_namespaced_pod_exec,
    pod,
    ns,
    command=["head", "-n1"],
    stdin=True,
    stdout=True,
    stderr=True,
    tty=False,
    _preload_content=False,
)
sh.write_stdin("from-py\n")
sh.run_forever(timeout=20)
out["exec_stdin"] = [sh.read_stdout(), sh.returncode]

# port-forward of two ports: a round trip through the pod's echo server on 7000; nothing listens on
# 7001, so its error channel says so and the client closes that port's socket.
pf = portforward(v1.connect_get_namespaced_pod_portforward, pod, ns, ports="7000,7001")
s = pf.socket(7000)
s.settimeout(20)
s.sendall(b"ping-py\n")
got = b""
while not got.endswith(b"\n"):
    chunk = s.recv(1024)
    if not chunk:
        break
    got += chunk
refused = pf.socket(7001)
refused.settimeout(20)
closed = refused.recv(1) == b""
s.close()
out["portforward"] = [got.decode(), pf.error(7000), closed, pf.error(7001)]

# logs: what is there, then followed (watch.stream sets follow=True) until a line written
# after the stream started comes through.
out["logs"] = v1.read_namespaced_pod_log(pod, ns).splitlines()[0]
followed = []
w = watch.Watch()
for line in w.stream(v1.read_namespaced_pod_log, name=pod, namespace=ns, _request_timeout=(10, 30)):
    followed.append(line)
    if line == "start":
        run(["sh", "-c", "echo later-py > /tmp/log"])
    if line == "later-py":
        w.stop()
out["followed"] = followed

# An informer's watch: list, watch from the list's resourceVersion, stop; what happens while no
# one watches comes on the watch resumed from the last resourceVersion it saw.
def cm(name, data):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels={"informer": "py"}), data=data)


listed = v1.list_namespaced_config_map(ns, label_selector="informer=py")
w = watch.Watch()
first = []
v1.create_namespaced_config_map(ns, cm("inf-a", {"v": "1"}))
for ev in w.stream(
    v1.list_namespaced_config_map,
    ns,
    label_selector="informer=py",
    resource_version=listed.metadata.resource_version,
    _request_timeout=(10, 30),
):
    first.append([ev["type"], ev["object"].metadata.name])
    w.stop()
v1.patch_namespaced_config_map("inf-a", ns, {"data": {"v": "2"}})
v1.create_namespaced_config_map(ns, cm("inf-b", {"v": "1"}))
v1.delete_namespaced_config_map("inf-a", ns)
resumed = []
for ev in w.stream(
    v1.list_namespaced_config_map,
    ns,
    label_selector="informer=py",
    resource_version=w.resource_version,
    _request_timeout=(10, 30),
):
    resumed.append([ev["type"], ev["object"].metadata.name, (ev["object"].data or {}).get("v")])
    if len(resumed) == 3:
        w.stop()
out["informer"] = [first, resumed]
v1.delete_namespaced_config_map("inf-b", ns)
print(json.dumps(out))
