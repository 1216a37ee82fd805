#!/usr/bin/env bash
# Regenerates gateway/xds/generated/: TypeScript types of the Envoy v3 messages the xDS server
# speaks, from the protos @grpc/grpc-js-xds ships (deps/). Generated, never edited by hand:
# run this after upgrading @grpc/grpc-js-xds and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
deps=node_modules/@grpc/grpc-js-xds/deps
out=gateway/xds/generated
rm -rf "$out"
npx proto-loader-gen-types --longs=String --enums=String --defaults --oneofs --grpcLib=@grpc/grpc-js --importFileExtension=.js --outDir="$out" \
  --includeDirs "$deps/envoy-api" "$deps/xds" "$deps/googleapis" "$deps/protoc-gen-validate" -- \
  envoy/service/discovery/v3/ads.proto \
  envoy/config/listener/v3/listener.proto \
  envoy/config/route/v3/route.proto \
  envoy/config/cluster/v3/cluster.proto \
  envoy/config/endpoint/v3/endpoint.proto \
  envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto \
  envoy/extensions/filters/http/router/v3/router.proto \
  envoy/extensions/filters/http/rbac/v3/rbac.proto \
  envoy/extensions/transport_sockets/tls/v3/tls.proto
