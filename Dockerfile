# syntax=docker/dockerfile:1
#
# claimcheck container image.
#   docker build -t claimcheck:0.1.0 .
#
# Stages:
#   build  npm ci (with dev dependencies), tsc, then `npm pack`: the package's
#          "files" (bin, dist, proto, examples) + package.json, the same set
#          scripts/prod-fileset.mjs builds and the packaging tests start.
#   prod   the packed files in a clean directory + `npm ci --omit=dev`:
#          runtime dependencies only, no TypeScript sources, no compiler.
#   final  distroless Node.js 20 (no shell, no package manager), uid 65532.
#
# Base images are pinned by digest (a tag can be re-pointed; a digest cannot).
# The digests below were taken from public Dockerfiles that pin these tags;
# they were not pulled on the machine that wrote this file (no registry access
# there). Refresh them with:
#   docker buildx imagetools inspect node:20-bookworm-slim --format '{{json .Manifest.Digest}}'
#   docker buildx imagetools inspect gcr.io/distroless/nodejs20-debian12:nonroot --format '{{json .Manifest.Digest}}'
ARG NODE_IMAGE=node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot@sha256:c4c595a36ad2ced3cd952fad295a6afcb4469e91927159cfb95790031fe65d95

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run tsc before the sources are copied.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm pack --ignore-scripts --pack-destination /tmp \
 && mkdir /pkg \
 && tar -xzf /tmp/claimcheck-*.tgz -C /pkg --strip-components=1 \
 && cp package-lock.json /pkg/

FROM ${NODE_IMAGE} AS prod
WORKDIR /app
COPY --from=build /pkg/ ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf /root/.npm \
 && mkdir -p /etc/claimcheck \
 && if find /app -name '*.ts' ! -name '*.d.ts' -not -path '*/node_modules/*' | grep -q .; then echo 'TypeScript sources in the image' >&2; exit 1; fi

FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="claimcheck" \
      org.opencontainers.image.description="Envoy external-authorization server that verifies JWTs and applies per-host policies" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
# Owned by root and read-only to the runtime user: the process cannot modify its own code.
COPY --from=prod --chown=0:0 /app /app
# An empty configuration directory: mount manifests here (a ConfigMap, a Secret, a volume).
COPY --from=prod --chown=0:0 /etc/claimcheck /etc/claimcheck
ENV NODE_ENV=production
USER 65532:65532
# gRPC (Authorization/Check, grpc.health.v1) and HTTP (/metrics /healthz /readyz)
EXPOSE 9191 9090
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/claimcheck.js"]
# The default serves /etc/claimcheck, empty unless something is mounted there: every
# request is denied (no policy) until it holds manifests. Never the bundled demo, whose
# signing key is published. The Helm chart passes its own arguments.
CMD ["serve", "--config-dir", "/etc/claimcheck"]
