#!/usr/bin/env bash
# Builds the native executable of the application (all functions; select one at run time with
# EVENTLINE_FUNCTIONS_ENABLED). With GRAALVM_HOME (GraalVM or Mandrel) it builds locally; with a Docker
# or Podman engine it builds inside Quarkus' builder image; with neither it stops and says so.
set -euo pipefail
cd "$(dirname "$0")"

case "${1:-}" in
  -h|--help)
    sed -n '2,4p' "$0" | sed 's/^# \{0,1\}//'
    echo "usage: ./native-build.sh        (result: target/*-runner)"
    exit 0 ;;
esac

if [ -n "${GRAALVM_HOME:-}" ] && [ -x "$GRAALVM_HOME/bin/native-image" ]; then
  exec ./mvnw -B package -DskipTests -Dnative
fi
for engine in docker podman; do
  if command -v "$engine" >/dev/null 2>&1 && "$engine" info >/dev/null 2>&1; then
    exec ./mvnw -B package -DskipTests -Dnative -Dquarkus.native.container-build=true \
      -Dquarkus.native.container-runtime="$engine"
  fi
done
echo "native-build.sh: no native toolchain: set GRAALVM_HOME to a GraalVM or Mandrel installation," >&2
echo "or start a Docker or Podman engine for a container build. The JVM build is ./mvnw package." >&2
exit 1
