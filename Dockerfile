# kubeling: one image for every component (apiserver, scheduler, controller-manager, kubelet, proxy, CLI);
# docker-compose.yml picks the process with `command:`.
#
# Two ways to get the dependencies and the compiled JavaScript:
#   KUBELING_DEPS=npm (default): `npm ci` and `tsc` inside the image, on the official Node image.
#   KUBELING_DEPS=context: no registry needed; the host's node_modules/ and dist/ (from `npm ci &&
#     npm run build`) are copied from the build context. This is what our offline machines use, on
#     kubeling.local/node:20 built by scripts/build-images.sh (the host's own node binary).
# The choice is a shell test rather than build stages because the classic builder (docker-compose
# v1, DOCKER_BUILDKIT=0) builds every stage, and the npm stage cannot run offline.
ARG NODE_IMAGE=node:20-bookworm-slim
FROM ${NODE_IMAGE}
ARG KUBELING_DEPS=npm
WORKDIR /app
COPY . .
RUN set -e; \
    if [ "$KUBELING_DEPS" = context ]; then \
      if [ ! -d node_modules/fastify ] || [ ! -f dist/apiserver/main.js ]; then \
        echo "KUBELING_DEPS=context needs node_modules/ and dist/ in the build context: run npm ci && npm run build first" >&2; \
        exit 1; \
      fi; \
    else \
      # kubeling-proxy's iptables mode: Debian's iptables (nf_tables) and iproute2.
      (apt-get update && apt-get install -y --no-install-recommends iptables iproute2 && rm -rf /var/lib/apt/lists/*) \
        || echo "no iptables in the image: kubeling-proxy runs in userspace mode" >&2; \
      rm -rf node_modules dist; \
      npm ci --no-audit --no-fund || npm install --no-save --no-audit --no-fund; \
      npm run build; \
      npm prune --omit=dev --no-audit --no-fund; \
      npm cache clean --force; \
    fi
ENV NODE_ENV=production
LABEL org.opencontainers.image.title="kubeling" \
      org.opencontainers.image.description="A small, real Kubernetes in TypeScript"
# The API server listens on 6443, kubelets on 10250.
EXPOSE 6443 10250
CMD ["node", "bin/kubeling.js", "--help"]
