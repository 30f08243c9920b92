#!/usr/bin/env bash
# Builds eventline's native executable and its container images. ./native-build.sh --help tells how.
set -euo pipefail
cd "$(dirname "$0")"

usage() {
  cat <<'EOF'
Usage: ./native-build.sh [options]

Builds the native executable (target/eventline-<version>-runner) and the container images, one per
function (the same executable; the image selects its function) or one for all functions.

How the executable is built, first that applies:
  1. GRAALVM_HOME is set (GraalVM or Mandrel for Java 17+): a local native build.
  2. A Docker or Podman engine answers: Quarkus' container build (Mandrel in a builder image).
  3. --toolchain DIR: the unofficial SubstrateVM toolchain assembled from Maven Central
     (for verification on machines without GraalVM or an engine; its executables need the
     toolchain's lib/*.so next to them and are not packaged into images). Its sources are needed:
     NATIVE_TOOLCHAIN_SRC, else ../shared/native-toolchain beside this repository; DIR is assembled
     from them on first use. It needs a JDK 25: TOOLCHAIN_JDK, else the one the toolchain's setup
     script names, else the copy in an assembled DIR.
  Otherwise it stops and says so; with --jvm-only it builds the JVM images instead.

Options:
  --function NAME   build the image for this function only (repeatable); default: all of
                    functions/*/ plus the gate image
  --all             one image for every function (EVENTLINE_FUNCTIONS_ENABLED=all), as well
  --image NAME      image repository (default: eventline); images are NAME-<function>:TAG
  --tag TAG         image tag (default: the project version)
  --push            push the images after building them
  --no-images       build the executable only
  --jvm-only        no native build: build JVM images (Dockerfile.jvm) from the jar
  --engine E        docker, podman or none (default: the first that answers)
  --toolchain DIR   use (and if needed assemble) the unofficial toolchain in DIR
  --test            run the @QuarkusIntegrationTest suite (src/test/.../*IT.java) against the
                    native executable; starts its own RabbitMQ like the other tests
  --find-jdk25      print the JDK 25 --toolchain would use and exit (1 when there is none);
                    give --toolchain DIR first to count an assembled toolchain
  --dry-run         print what would run, run nothing
  -h, --help        this text

Examples:
  GRAALVM_HOME=/opt/mandrel ./native-build.sh --function orders --tag 1.2.0 --push
  ./native-build.sh --engine docker --image ghcr.io/acme/eventline
  ./native-build.sh --toolchain ~/.cache/native-toolchain --no-images --test
  ./native-build.sh --jvm-only --engine podman
EOF
}

die() { echo "native-build.sh: $*" >&2; exit 2; }

# The JDK 25 the unofficial toolchain works with (see --help): TOOLCHAIN_JDK; else the one its setup script
# names (its JDK= line); else the copy inside an assembled toolchain (DIR/home). Prints nothing when none is there.
find_jdk25() {
  is25() { [ -x "$1/bin/java" ] && "$1/bin/java" -version 2>&1 | head -1 | grep -q '"25[".]'; }
  if [ -n "${TOOLCHAIN_JDK:-}" ]; then
    is25 "$TOOLCHAIN_JDK" || die "TOOLCHAIN_JDK=$TOOLCHAIN_JDK is not a JDK 25"
    echo "$TOOLCHAIN_JDK"; return 0
  fi
  local named dir
  named=$(sed -n 's/^JDK=\([^;[:space:]]*\).*/\1/p' "$SRC/setup-toolchain.sh" 2>/dev/null | head -1)
  for dir in "$named" "${TOOLCHAIN:+$TOOLCHAIN/home}"; do
    if [ -n "$dir" ] && is25 "$dir"; then echo "$dir"; return 0; fi
  done
  return 0
}
run() { echo "+ $*"; [ "$DRY_RUN" = 1 ] || "$@"; }

FUNCTIONS=() ALL=0 IMAGE=eventline TAG="" PUSH=0 IMAGES=1 JVM_ONLY=0 ENGINE=auto TOOLCHAIN="" TEST=0 DRY_RUN=0 FIND_JDK=0
SRC=${NATIVE_TOOLCHAIN_SRC:-$(cd .. && pwd)/shared/native-toolchain}
while [ $# -gt 0 ]; do
  case "$1" in
    --function) [ $# -ge 2 ] || die "--function needs a name"; FUNCTIONS+=("$2"); shift 2 ;;
    --all) ALL=1; shift ;;
    --image) [ $# -ge 2 ] || die "--image needs a name"; IMAGE=$2; shift 2 ;;
    --tag) [ $# -ge 2 ] || die "--tag needs a value"; TAG=$2; shift 2 ;;
    --push) PUSH=1; shift ;;
    --no-images) IMAGES=0; shift ;;
    --jvm-only) JVM_ONLY=1; shift ;;
    --engine) [ $# -ge 2 ] || die "--engine needs docker, podman or none"; ENGINE=$2; shift 2 ;;
    --find-jdk25) FIND_JDK=1; shift ;;
    --toolchain) [ $# -ge 2 ] || die "--toolchain needs a directory"; TOOLCHAIN=$2; shift 2 ;;
    --test) TEST=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

if [ "$FIND_JDK" = 1 ]; then
  jdk=$(find_jdk25)
  [ -n "$jdk" ] && echo "$jdk" && exit 0
  exit 1
fi

VERSION=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' pom.xml | head -1)
[ -n "$VERSION" ] || die "cannot read the project version from pom.xml"
TAG=${TAG:-$VERSION}
RUNNER="eventline-$VERSION-runner"
KNOWN=$(ls functions/*/function.yaml | sed 's:functions/\(.*\)/function.yaml:\1:')
for f in "${FUNCTIONS[@]}"; do
  grep -qx "$f" <<<"$KNOWN" || die "no function '$f' (functions/$f/function.yaml); known: $(echo $KNOWN)"
done
[ ${#FUNCTIONS[@]} -gt 0 ] || mapfile -t FUNCTIONS <<<"$KNOWN"
case "$ENGINE" in auto|docker|podman|none) ;; *) die "--engine must be docker, podman or none" ;; esac

# A container engine that answers (the docker client alone is not enough)
if [ "$ENGINE" = auto ]; then
  ENGINE=none
  for e in docker podman; do
    if command -v "$e" >/dev/null 2>&1 && "$e" info >/dev/null 2>&1; then ENGINE=$e; break; fi
  done
fi

build_images() { # $1: Dockerfile
  if [ "$IMAGES" = 0 ]; then return; fi
  if [ "$ENGINE" = none ]; then
    echo "native-build.sh: no Docker or Podman engine answers: images not built (the executable is in target/)" >&2
    [ "$JVM_ONLY" = 1 ] && exit 3
    return
  fi
  local refs=() fn
  for fn in "${FUNCTIONS[@]}"; do
    run "$ENGINE" build -f "$1" --build-arg "FUNCTION=$fn" -t "$IMAGE-$fn:$TAG" .
    refs+=("$IMAGE-$fn:$TAG")
  done
  # the gate: every function's topology, no consumers
  run "$ENGINE" build -f "$1" --build-arg FUNCTION=none -t "$IMAGE-gate:$TAG" .
  refs+=("$IMAGE-gate:$TAG")
  if [ "$ALL" = 1 ]; then
    run "$ENGINE" build -f "$1" --build-arg FUNCTION=all -t "$IMAGE:$TAG" .
    refs+=("$IMAGE:$TAG")
  fi
  if [ "$PUSH" = 1 ]; then
    for r in "${refs[@]}"; do run "$ENGINE" push "$r"; done
  fi
  echo "images: ${refs[*]}"
}

# the @QuarkusIntegrationTest classes (the other *IT check the jar build's files)
PACKAGED_ITS='-Dit.test=**/packaged/*IT'
integration_tests() { # runs the *IT classes against the executable named in target/quarkus-artifact.properties
  run ./mvnw -B failsafe:integration-test failsafe:verify "$PACKAGED_ITS"
}

if [ "$JVM_ONLY" = 1 ]; then
  run ./mvnw -B package -DskipTests
  build_images Dockerfile.jvm
  exit 0
fi

if [ -n "${GRAALVM_HOME:-}" ]; then
  [ -x "$GRAALVM_HOME/bin/native-image" ] || die "GRAALVM_HOME=$GRAALVM_HOME has no bin/native-image"
  echo "native build with $GRAALVM_HOME"
  # -Dnative: the pom's native profile; verify runs the integration tests on the executable
  if [ "$TEST" = 1 ]; then run ./mvnw -B verify -Dnative -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false "$PACKAGED_ITS"
  else run ./mvnw -B package -Dnative -DskipTests; fi
  build_images Dockerfile.native
elif [ "$ENGINE" != none ] && [ -z "$TOOLCHAIN" ]; then
  echo "native build in a builder container ($ENGINE)"
  ARGS=(-Dnative -Dquarkus.native.container-build=true "-Dquarkus.native.container-runtime=$ENGINE")
  if [ "$TEST" = 1 ]; then run ./mvnw -B verify "${ARGS[@]}" -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false "$PACKAGED_ITS"
  else run ./mvnw -B package "${ARGS[@]}" -DskipTests; fi
  build_images Dockerfile.native
elif [ -n "$TOOLCHAIN" ]; then
  [ -f "$SRC/ni-args.py" ] || die "no toolchain sources in $SRC (set NATIVE_TOOLCHAIN_SRC): its ni-args.py is needed"
  JDK25=$(find_jdk25)
  [ -n "$JDK25" ] || die "the toolchain needs a JDK 25: set TOOLCHAIN_JDK"
  if [ ! -x "$TOOLCHAIN/run-builder.sh" ]; then
    [ -f "$SRC/setup-toolchain.sh" ] || die "no toolchain in $TOOLCHAIN and no setup-toolchain.sh in $SRC (set NATIVE_TOOLCHAIN_SRC)"
    run bash "$SRC/setup-toolchain.sh" "$TOOLCHAIN"
  fi
  echo "native build with the unofficial toolchain in $TOOLCHAIN (for verification; see --help)"
  # Quarkus writes the builder's arguments (native-sources); the toolchain runs the builder on them
  run env JAVA_HOME="$JDK25" ./mvnw -B package -DskipTests -Dquarkus.native.enabled=true -Dquarkus.native.sources-only=true
  OUT=$PWD/target/native-build
  run rm -rf "$OUT"
  run mkdir -p "$OUT/lib"
  run python3 "$SRC/ni-args.py" "$PWD/target/native-sources" "$OUT"
  if [ "$DRY_RUN" = 0 ]; then
    mapfile -t BARGS < "$OUT/builder.args"
    (cd "$OUT" && XMX=${XMX:--Xmx6g} JVM_ARGS_FILE="$OUT/jvm.args" "$TOOLCHAIN/run-builder.sh" "${BARGS[@]}")
    cp "$TOOLCHAIN"/runtime-lib/*.so "$OUT/lib/"
    cp "$OUT/$RUNNER" "target/$RUNNER"
    cp -r "$OUT/lib" target/
    # the integration tests launch the executable named here (as after a regular native build)
    printf 'path=%s\ntype=native\n' "$RUNNER" > target/quarkus-artifact.properties
  fi
  echo "executable: target/$RUNNER (with target/lib/*.so from the toolchain)"
  [ "$TEST" = 1 ] && integration_tests
  if [ "$IMAGES" = 1 ]; then
    echo "native-build.sh: executables from the unofficial toolchain are not packaged into images;" \
      "build images with GRAALVM_HOME or a container engine" >&2
  fi
else
  die "no way to build a native executable here: set GRAALVM_HOME to a GraalVM or Mandrel (Java 17+),
  start a Docker or Podman engine, or pass --toolchain DIR (unofficial, verification only).
  To build JVM images instead: ./native-build.sh --jvm-only"
fi
