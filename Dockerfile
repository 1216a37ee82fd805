# syntax=docker/dockerfile:1
# The gateway image: `causeway gateway --config /etc/causeway/gateway.yaml`, run as a non-root
# user on a distroless Node.js base (no shell, no package manager). The Kubernetes manifests
# (terraform/modules/gateway-kubernetes/manifests) mount the config there.
#
#   docker build -t causeway-gateway:0.1.0 .
#
# Node.js 22: the package needs Node >= 20, and 20 is past its end of life. Base images are
# pinned by tag; for a release, pin them by digest too (`FROM image:tag@sha256:...`).

# Compile the TypeScript. Dependencies first, so that a source change reuses the npm ci layer;
# --ignore-scripts because `prepare` would compile before the sources are copied in.
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/link-bin.mjs scripts/build-dashboard.mjs scripts/
COPY registry registry
COPY federation federation
COPY gateway gateway
RUN npm run build

# The production dependencies alone (no TypeScript, no test tools).
FROM node:22-bookworm-slim AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# What the npm package ships (package.json "files"), and its production node_modules.
FROM gcr.io/distroless/nodejs22-debian12:nonroot AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /src/node_modules node_modules
COPY --from=build /src/package.json package.json
COPY --from=build /src/dist/registry dist/registry
COPY --from=build /src/dist/federation dist/federation
COPY --from=build /src/dist/gateway dist/gateway
COPY --from=build /src/dist/dashboard dist/dashboard
COPY --from=build /src/federation/peering/federation.proto federation/peering/federation.proto
# distroless "nonroot": uid and gid 65532, numeric so that the kubelet can check runAsNonRoot.
USER 65532:65532
# east-west, federation, identity, outbound, admin (xDS, 15010, has no listener yet)
EXPOSE 15443 15012 15017 15001 15000
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/gateway/cli/main.js", "gateway", "--config", "/etc/causeway/gateway.yaml"]
