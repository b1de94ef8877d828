#!/usr/bin/env bash
# Builds the base images kubeling needs from what this machine already has, with `docker import`,
# because no container registry is reachable on our machines (DESIGN 7):
#   kubeling.local/busybox:latest  Debian's busybox-static plus a symlink per applet (CMD sh)
#   kubeling.local/pause:latest    pod sandbox: sleeps until SIGTERM, then exits 0
#   kubeling.local/node:20         the host's node binary and the shared libraries it links (+ busybox),
#                                  and, when the host has them, Debian's iptables (nft), iproute2's ip and
#                                  conntrack, so that kubeling-proxy in this image runs in iptables mode
#   kubeling.local/etcd:3.4        Debian's etcd (etcd-server) and etcdctl (etcd-client), with their libraries
#   kubeling.local/kubectl:1.31    busybox plus one static kubectl (the host's versioned client, the
#                                  minor the API server reports) at /usr/local/bin/kubectl, CMD kubectl;
#                                  in a pod it runs in-cluster with no kubeconfig (mounted token,
#                                  KUBERNETES_SERVICE_HOST/_PORT), as upstream's clients do
#   kubeling.local/python:3        busybox plus the host's /usr/bin/python3, its libraries, the standard
#                                  library and the Debian package python3-kubernetes (the official client)
#                                  with its dependencies, so `config.load_incluster_config()` works in a pod
# Every image carries the label kubeling.io/local=true and kubeling.io/input-hash=<sha256 of its inputs>;
# an image whose hash matches is not rebuilt, so a second run takes well under a second.
# Writes .kubeling/images.env (the image variables docker-compose.yml reads) for scripts/compose.sh.
#
# Usage: bash scripts/build-images.sh [--force]
set -euo pipefail

cd "$(dirname "$0")/.."
FORCE=0
[[ "${1:-}" == "--force" ]] && FORCE=1

BUSYBOX_BIN=${BUSYBOX_BIN:-/usr/bin/busybox}
NODE_BIN=${NODE_BIN:-$(command -v node || true)}
ETCD_BIN=${ETCD_BIN:-/usr/bin/etcd}
# etcdctl (Debian: etcd-client) goes in too when present, as in the official image (tests read etcd with it).
ETCDCTL_BIN=${ETCDCTL_BIN:-/usr/bin/etcdctl}
# kubectl's minor follows the API server's /version (v1.31), within the supported skew.
KUBECTL_VERSION=${KUBECTL_VERSION:-1.31}
KUBECTL_BIN=${KUBECTL_BIN:-/usr/lib/google-cloud-sdk/bin/kubectl.$KUBECTL_VERSION}
PYTHON_BIN=${PYTHON_BIN:-/usr/bin/python3}
# kubeling-proxy's iptables mode (apt-get install iptables iproute2 conntrack): iptables-nft's
# multi-call binary, its extension modules (dlopened from XTABLES_DIR), ip and conntrack.
XTABLES_BIN=${XTABLES_BIN:-/usr/sbin/xtables-nft-multi}
XTABLES_DIR=${XTABLES_DIR:-/usr/lib/x86_64-linux-gnu/xtables}
IP_BIN=${IP_BIN:-/usr/sbin/ip}
CONNTRACK_BIN=${CONNTRACK_BIN:-/usr/sbin/conntrack}
SELF_HASH=$(sha256sum "$0" | cut -c1-16)

log() { printf '[build-images] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v docker >/dev/null || die "docker CLI not found"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (docker info failed)"
[[ -x "$BUSYBOX_BIN" ]] || die "$BUSYBOX_BIN missing: apt-get install busybox-static"
# A dynamically linked busybox would need its libraries in every image.
ldd_out=$(LC_ALL=C ldd "$BUSYBOX_BIN" 2>&1 || true)
[[ "$ldd_out" == *"not a dynamic executable"* || "$ldd_out" == *"statically linked"* ]] ||
  die "$BUSYBOX_BIN is not statically linked: apt-get install busybox-static"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# hash_of <files...>: a short content hash of this script and the given inputs.
hash_of() { { echo "$SELF_HASH"; sha256sum "$@" | cut -d' ' -f1; } | sha256sum | cut -c1-32; }

# up_to_date <image> <hash>: true when the image exists with the same input hash.
up_to_date() {
  [[ $FORCE == 1 ]] && return 1
  local have
  have=$(docker image inspect -f '{{ index .Config.Labels "kubeling.io/input-hash" }}' "$1" 2>/dev/null || true)
  [[ "$have" == "$2" ]]
}

# copy_with_libs <binary> <rootfs> <dest-path>: the binary plus every shared library ldd lists, at the same paths.
copy_with_libs() {
  local bin=$1 root=$2 dest=$3 lib
  install -D -m 0755 "$(readlink -f "$bin")" "$root$dest"
  while read -r lib; do
    [[ -n "$lib" && -e "$lib" ]] || continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done < <(ldd "$bin" 2>/dev/null | grep -oE '(/[^ ]+)' | sort -u)
}

# base_rootfs <rootfs>: directories, users and busybox applets that every image shares.
base_rootfs() {
  local root=$1 applet
  mkdir -p "$root"/{bin,etc,root,tmp,var/tmp,usr/bin,usr/local/bin,dev,proc,sys}
  chmod 1777 "$root/tmp" "$root/var/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
  install -m 0755 "$BUSYBOX_BIN" "$root/bin/busybox"
  for applet in $("$BUSYBOX_BIN" --list); do
    [[ "$applet" == busybox || -e "$root/bin/$applet" ]] && continue
    ln -s busybox "$root/bin/$applet"
  done
}

# import <image> <hash> <rootfs> <docker import --change args...>
import() {
  local image=$1 hash=$2 root=$3
  shift 3
  tar --numeric-owner --owner=0 --group=0 -C "$root" -c . |
    docker import \
      -c 'LABEL kubeling.io/local=true' \
      -c "LABEL kubeling.io/input-hash=$hash" \
      -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      "$@" - "$image" >/dev/null
  log "built $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.1f MB", $1/1e6}'))"
}

ENV_LINES=()

build_busybox() {
  local image=kubeling.local/busybox:latest hash root=$WORK/busybox
  hash=$(hash_of "$BUSYBOX_BIN")
  if up_to_date "$image" "$hash"; then log "$image is up to date"; else
    base_rootfs "$root"
    mkdir -p "$root/var/www"
    import "$image" "$hash" "$root" -c 'CMD ["sh"]'
  fi
  ENV_LINES+=("BUSYBOX_IMAGE=$image")
}

build_pause() {
  local image=kubeling.local/pause:latest hash root=$WORK/pause
  hash=$(hash_of "$BUSYBOX_BIN")
  if up_to_date "$image" "$hash"; then log "$image is up to date"; else
    mkdir -p "$root/bin" "$root/etc" "$root/tmp"
    install -m 0755 "$BUSYBOX_BIN" "$root/bin/busybox"
    ln -s busybox "$root/bin/sh"
    ln -s busybox "$root/bin/sleep"
    printf 'root:x:0:0:root:/:/bin/sh\n' >"$root/etc/passwd"
    # PID 1 ignores signals it has no handler for, so trap TERM/INT and sleep in the background,
    # where `wait` returns as soon as the signal arrives.
    import "$image" "$hash" "$root" \
      -c 'ENTRYPOINT ["/bin/sh", "-c", "trap \"exit 0\" TERM INT; while :; do sleep 3600 & wait $!; done"]'
  fi
  ENV_LINES+=("PAUSE_IMAGE=$image")
}

build_node() {
  local image=kubeling.local/node:20 hash root=$WORK/node version
  [[ -n "$NODE_BIN" && -x "$NODE_BIN" ]] || { log "no node binary: skipping $image"; return; }
  version=$("$NODE_BIN" --version)
  [[ "$version" == v20.* ]] || log "warning: host node is $version, tagging it as $image anyway"
  local net=() f
  if [[ -x "$XTABLES_BIN" && -d "$XTABLES_DIR" && -x "$IP_BIN" && -x "$CONNTRACK_BIN" ]]; then
    net=("$XTABLES_BIN" "$IP_BIN" "$CONNTRACK_BIN" "$XTABLES_DIR"/*.so)
  else
    log "no iptables/ip/conntrack on this host (apt-get install iptables iproute2 conntrack): $image gets none, kubeling-proxy in it runs in userspace mode"
  fi
  hash=$(hash_of "$BUSYBOX_BIN" "$(readlink -f "$NODE_BIN")" "${net[@]}")
  if up_to_date "$image" "$hash"; then log "$image is up to date"; else
    base_rootfs "$root"
    copy_with_libs "$NODE_BIN" "$root" /usr/local/bin/node
    ln -sf ../local/bin/node "$root/usr/bin/node"
    if ((${#net[@]})); then
      copy_with_libs "$XTABLES_BIN" "$root" /usr/sbin/xtables-nft-multi
      for f in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
        ln -sf xtables-nft-multi "$root/usr/sbin/$f"
      done
      copy_with_libs "$IP_BIN" "$root" /usr/sbin/ip
      copy_with_libs "$CONNTRACK_BIN" "$root" /usr/sbin/conntrack
      for f in "$XTABLES_DIR"/*.so; do copy_with_libs "$f" "$root" "$f"; done
      # Protocol names (-p tcp) and the xtables lock's directory.
      [[ -f /etc/protocols ]] && install -m 0644 /etc/protocols "$root/etc/protocols"
      mkdir -p "$root/run"
    fi
    if [[ -d /etc/ssl/certs ]]; then
      mkdir -p "$root/etc/ssl"
      cp -rL /etc/ssl/certs "$root/etc/ssl/certs" 2>/dev/null || true
    fi
    import "$image" "$hash" "$root" -c 'WORKDIR /app' -c "ENV NODE_VERSION=${version#v}" -c 'CMD ["node"]'
  fi
  ENV_LINES+=("NODE_IMAGE=$image" "KUBELING_DEPS=context")
}

build_etcd() {
  local image=kubeling.local/etcd:3.4 hash root=$WORK/etcd
  [[ -x "$ETCD_BIN" ]] || { log "no $ETCD_BIN (apt-get install etcd-server): skipping $image"; return; }
  local inputs=("$ETCD_BIN")
  [[ -x "$ETCDCTL_BIN" ]] && inputs+=("$ETCDCTL_BIN")
  hash=$(hash_of "${inputs[@]}")
  if up_to_date "$image" "$hash"; then log "$image is up to date"; else
    base_rootfs "$root"
    # The official image keeps etcd at /usr/local/bin/etcd; compose runs that path for either image.
    copy_with_libs "$ETCD_BIN" "$root" /usr/local/bin/etcd
    [[ -x "$ETCDCTL_BIN" ]] && copy_with_libs "$ETCDCTL_BIN" "$root" /usr/local/bin/etcdctl
    mkdir -p "$root/var/lib/etcd" "$root/var/etcd"
    import "$image" "$hash" "$root" -c 'WORKDIR /var/lib/etcd' -c 'EXPOSE 2379 2380' -c 'CMD ["/usr/local/bin/etcd"]'
  fi
  ENV_LINES+=("ETCD_IMAGE=$image")
}

build_kubectl() {
  local image=kubeling.local/kubectl:$KUBECTL_VERSION hash root=$WORK/kubectl
  [[ -x "$KUBECTL_BIN" ]] || { log "no $KUBECTL_BIN: skipping $image"; return; }
  ldd_out=$(LC_ALL=C ldd "$KUBECTL_BIN" 2>&1 || true)
  [[ "$ldd_out" == *"not a dynamic executable"* || "$ldd_out" == *"statically linked"* ]] ||
    { log "$KUBECTL_BIN is not statically linked: skipping $image"; return; }
  hash=$(hash_of "$BUSYBOX_BIN" "$KUBECTL_BIN")
  if up_to_date "$image" "$hash"; then log "$image is up to date"; else
    base_rootfs "$root"
    install -m 0755 "$KUBECTL_BIN" "$root/usr/local/bin/kubectl"
    # kubectl keeps its discovery cache under $HOME/.kube; any user may run the image.
    mkdir -p "$root/root/.kube"
    import "$image" "$hash" "$root" -c 'ENV HOME=/root' -c 'CMD ["kubectl"]'
  fi
  ENV_LINES+=("KUBECTL_IMAGE=$image")
}

# python_packages <package>: the Debian package and every installed python3-* package it depends
# on, recursively (dpkg-query, not apt-cache: a second each on a loaded machine).
python_packages() {
  local todo=("$1") seen=" " p dep
  while ((${#todo[@]})); do
    p=${todo[0]}
    todo=("${todo[@]:1}")
    [[ "$seen" == *" $p "* ]] && continue
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q ' installed$' || continue
    seen+="$p "
    echo "$p"
    # Depends and Pre-Depends: "a (>= 1), b:any | c" -> a b c
    for dep in $(dpkg-query -W -f '${Depends}, ${Pre-Depends}' "$p" | tr ',|' '\n\n' | awk '{ sub(/:.*/, "", $1); print $1 }'); do
      [[ "$dep" == python3-* ]] && todo+=("$dep")
    done
  done
}

build_python() {
  local image=kubeling.local/python:3 hash root=$WORK/python py stdlib tag pkgs f so lib
  [[ -x "$PYTHON_BIN" ]] || { log "no $PYTHON_BIN: skipping $image"; return; }
  py=$(readlink -f "$PYTHON_BIN")
  stdlib=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
  tag=$("$py" -c "import sys; print(sys.implementation.cache_tag)")
  dpkg -s python3-kubernetes >/dev/null 2>&1 ||
    { log "python3-kubernetes missing (apt-get install python3-kubernetes): skipping $image"; return; }
  mapfile -t pkgs < <(python_packages python3-kubernetes)
  # The input hash: the interpreter and the installed versions of every package copied.
  hash=$(
    {
      hash_of "$BUSYBOX_BIN" "$py"
      dpkg-query -W -f '${Package} ${Version}\n' "$(dpkg -S "$py" | cut -d: -f1)" "${pkgs[@]}"
    } | sha256sum | cut -c1-32
  )
  if up_to_date "$image" "$hash"; then log "$image is up to date"; else
    base_rootfs "$root"
    copy_with_libs "$py" "$root" "$py"
    ln -sf "$(basename "$py")" "$root/usr/bin/python3"
    ln -sf python3 "$root/usr/bin/python"
    # The standard library without what a client never imports (static libpython, tests, IDLE, Tk).
    mkdir -p "$root$stdlib"
    tar -C "$stdlib" -c --exclude='./config-*' --exclude='./test' --exclude='./idlelib' \
      --exclude='./tkinter' --exclude='./turtledemo' --exclude='./lib2to3' --exclude='./ensurepip' \
      --exclude='./pydoc_data' --exclude='./lib-dynload/_test*' --exclude='./lib-dynload/xx*' . |
      tar -C "$root$stdlib" -x
    # The client and its dependencies: the files their Debian packages install for Python.
    # With their mtimes and the byte code py3compile made at install time (__pycache__, which dpkg
    # does not list), so that importing the client does not compile 25 MB of Python in every pod.
    dpkg -L "${pkgs[@]}" | grep -E '^/usr/lib/python3/dist-packages/.' | sort -u |
      awk -v tag="$tag" '{ print } /\.py$/ { n = split($0, p, "/"); sub(/\.py$/, "", p[n]); p[n] = "__pycache__/" p[n] "." tag ".pyc"; out = p[1]; for (i = 2; i <= n; i++) out = out "/" p[i]; print out }' |
      while read -r f; do [[ -f "$f" ]] && echo "${f#/}"; done >"$WORK/python-files"
    tar -C / -c -T "$WORK/python-files" | tar -C "$root" -x
    # Shared libraries the extension modules link (libssl for _ssl, libyaml for _yaml, ...).
    while read -r so; do
      while read -r lib; do
        [[ -n "$lib" && -e "$lib" && ! -e "$root$lib" ]] || continue
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
      done < <(ldd "$so" 2>/dev/null | grep -oE '=> (/[^ ]+)' | cut -c4- | sort -u)
    done < <(find "$root$stdlib" "$root/usr/lib/python3" -name '*.so' | sed "s|^$root||" | sort)
    [[ -f /etc/ssl/certs/ca-certificates.crt ]] &&
      install -D -m 0644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    import "$image" "$hash" "$root" -c 'ENV PYTHONDONTWRITEBYTECODE=1' -c 'CMD ["python3"]'
  fi
  ENV_LINES+=("PYTHON_IMAGE=$image")
}

build_busybox
build_pause
build_node
build_etcd
build_kubectl
build_python

mkdir -p .kubeling
{
  echo "# Written by scripts/build-images.sh: the local images this machine built (no registry needed)."
  printf '%s\n' "${ENV_LINES[@]}"
} >.kubeling/images.env
log "wrote .kubeling/images.env"
