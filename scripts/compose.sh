#!/usr/bin/env bash
# docker compose for kubeling, on any machine:
#   - uses `docker compose` (v2 plugin) or `docker-compose` (v1), whichever is installed;
#   - unless KUBELING_OFFICIAL_IMAGES=1, builds the local images first (scripts/build-images.sh, no
#     registry needed) and passes their names (.kubeling/images.env) to docker-compose.yml; with them
#     the kubeling image is built from the host's node_modules/ and dist/, so `up` runs
#     `npm ci` (when node_modules/ is missing) and `npm run build` first;
#   - `down` also removes the pod containers the kubelets started (label kubeling.io/cluster),
#     which compose does not know about, so that the pods network can go too; `down -v` also
#     removes the kubelets' pod volume directories (/var/lib/kubeling-kubelet/<cluster>); and it
#     runs kube-proxy's --cleanup, so no chain or route of the cluster stays on the host.
# KUBELING_NPM_BUILD=0 skips that `npm run build` (dist/ is already current).
#   --ha   three etcd members (compose profile "ha") instead of one; start it on fresh volumes.
#
# Usage: bash scripts/compose.sh [--ha] up -d | ps | logs -f apiserver | down [-v] | <any compose command>
set -euo pipefail
cd "$(dirname "$0")/.."

if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null; then
  COMPOSE=(docker-compose)
else
  echo "compose.sh: neither 'docker compose' nor 'docker-compose' is installed (Debian: apt-get install docker-compose)" >&2
  exit 1
fi
COMPOSE+=(-p "${COMPOSE_PROJECT_NAME:-kubeling}" -f docker-compose.yml)

if [[ "${1:-}" == "--ha" ]]; then
  shift
  export COMPOSE_PROFILES=ha
  export ETCD_INITIAL_CLUSTER="etcd=https://etcd:2380,etcd-2=https://etcd-2:2380,etcd-3=https://etcd-3:2380"
  export ETCD_SERVERS="https://etcd:2379,https://etcd-2:2379,https://etcd-3:2379"
fi

cmd=${1:-}
if [[ "${KUBELING_OFFICIAL_IMAGES:-0}" != 1 && "$cmd" != "" ]]; then
  if [[ "$cmd" == up || "$cmd" == build || "$cmd" == create ]]; then
    bash scripts/build-images.sh
  fi
  if [[ -f .kubeling/images.env ]]; then
    # Variables already set in the environment win over the local images.
    while IFS='=' read -r key value; do
      if [[ "$key" =~ ^[A-Z_]+$ && -z "${!key:-}" ]]; then export "$key=$value"; fi
    done <.kubeling/images.env
  fi
  if [[ ("$cmd" == up || "$cmd" == build) && "${KUBELING_DEPS:-npm}" == context && "${KUBELING_NPM_BUILD:-1}" != 0 ]]; then
    [[ -d node_modules ]] || npm ci --no-audit --no-fund || npm install --no-save --no-audit --no-fund
    npm run --silent build
  fi
fi

STATE_DIR=${KUBELING_STATE_DIR:-./.kubeling}
export KUBELING_STATE_DIR=$STATE_DIR
if [[ "$cmd" == up ]]; then
  mkdir -p "$STATE_DIR"
  # The kubeconfig service writes a fresh one once the API server is healthy.
  rm -f "$STATE_DIR/kubeconfig"
  shift
  # --build: the image must hold the dist/ just compiled.
  "${COMPOSE[@]}" up --build "$@"
  if [[ " $* " == *" -d "* || " $* " == *" --detach "* ]]; then
    deadline=$((SECONDS + 120))
    until [[ -s "$STATE_DIR/kubeconfig" ]]; do
      if ((SECONDS > deadline)); then
        echo "compose.sh: no $STATE_DIR/kubeconfig after 120 s; see: bash scripts/compose.sh logs apiserver kubeconfig" >&2
        exit 1
      fi
      sleep 1
    done
    echo "kubeling is up. Try:  KUBECONFIG=$(realpath "$STATE_DIR")/kubeconfig kubectl get nodes"
  fi
elif [[ "$cmd" == down ]]; then
  "${COMPOSE[@]}" stop
  cluster=${KUBELING_CLUSTER_NAME:-kubeling}
  pods=$(docker ps -aq --filter "label=kubeling.io/cluster=$cluster")
  if [[ -n "$pods" ]]; then
    echo "removing $(wc -w <<<"$pods") pod container(s) of cluster $cluster"
    # shellcheck disable=SC2086
    docker rm -f $pods >/dev/null
  fi
  # kube-proxy leaves its rules when it stops, as upstream's: --cleanup takes the cluster's chains
  # and its service range's route off the host (it ran in the host's network).
  if docker image inspect "${KUBELING_IMAGE:-kubeling:dev}" >/dev/null 2>&1; then
    "${COMPOSE[@]}" run --rm --no-deps -T proxy node bin/kubeling-proxy.js --cleanup \
      --cluster-name="$cluster" --service-cluster-ip-range="${KUBELING_SERVICE_CIDR:-10.96.0.0/12}" >/dev/null ||
      echo "compose.sh: kubeling-proxy --cleanup failed; see: iptables-save | grep $cluster" >&2
  fi
  "${COMPOSE[@]}" "$@"
  # -v: the kubelets' pod volume directories on the host go too (see --root-dir in docker-compose.yml).
  if [[ " $* " == *" -v "* || " $* " == *" --volumes "* ]]; then
    rm -rf "/var/lib/kubeling-kubelet/$cluster" 2>/dev/null ||
      echo "compose.sh: could not remove /var/lib/kubeling-kubelet/$cluster (not root?)" >&2
  fi
else
  "${COMPOSE[@]}" "$@"
fi
