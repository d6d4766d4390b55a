#!/usr/bin/env bash
# Benchmark (not a test): a registry push of an image from an OCI layout (config and LAYERS
# gzip layers of LAYER_MIB MiB of random bytes each) with `unisonctl oci push` against
# `skopeo copy`, each into its own fresh docker-registry (Debian's package, started here on
# 127.0.0.1 with temporary storage, as the OCI interop tests do). Then unisonctl pushes the
# same image again: the re-push must send no blob (issue 17, goal 5). Prints wall time of
# each (the median of RUNS rounds), the ratio ours / skopeo (below 1: ours is faster) and the
# goal's verdict (<= 0.7).
#
# Usage: scripts/bench-push.sh
#   UNISONCTL_BIN: the unisonctl to use (default: a release build, built when missing)
#   LAYERS: number of layers (default 4); LAYER_MIB: MiB of random data per layer (default 64)
#   RUNS: rounds, each pusher into a fresh registry per round (default 5); medians are compared
set -euo pipefail

die() { echo "bench-push: $*" >&2; exit 2; }
# shellcheck source=scripts/lib/bench.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/bench.sh"

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# Moves FILE into the layout's blob store under its digest; prints the hex digest.
add_blob() {
  local layout=$1 file=$2 hex
  hex=$(sha256_of "$file")
  mv "$file" "$layout/blobs/sha256/$hex"
  echo "$hex"
}

# Starts docker-registry with storage under DIR on a free 127.0.0.1 port; prints the port.
# The pid goes to DIR/pid (the EXIT trap kills it).
start_registry() {
  local dir=$1 port
  mkdir -p "$dir/storage"
  for _ in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/storage
http:
  addr: 127.0.0.1:$port
EOF
    docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
    echo $! >"$dir/pid"
    local i
    for ((i = 0; i < 300; i++)); do
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
      if curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null; then
        echo "$port"
        return 0
      fi
      sleep 0.05
    done
    kill "$(cat "$dir/pid")" 2>/dev/null || true
    wait "$(cat "$dir/pid")" 2>/dev/null || true
  done
  die "docker-registry did not start ($(tail -c 500 "$dir/registry.log"))"
}

# Stops the registry under DIR and removes its storage.
stop_registry() {
  kill "$(cat "$1/pid")" 2>/dev/null || true
  wait "$(cat "$1/pid")" 2>/dev/null || true
  rm -rf "$1"
}

stop_registries() {
  local pidfile
  for pidfile in "$work"/registry-*/pid; do
    [ -f "$pidfile" ] || continue
    stop_registry "$(dirname "$pidfile")"
  done
  rm -rf "$work"
}

main() {
  local here root
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  root=$(cd "$here/.." && pwd)
  local layers=${LAYERS:-4} layer_mib=${LAYER_MIB:-64}
  local bin
  bin=$(bench_unisonctl "$root")
  for tool in docker-registry skopeo curl gzip sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (scripts/setup.sh installs it)"
  done

  # Global, so the EXIT trap still sees it after main returns.
  work=$(mktemp -d /tmp/unison-bench-push.XXXXXX)
  trap stop_registries EXIT

  # The OCI layout: LAYERS gzip layers of random bytes (incompressible: every byte goes over
  # the wire), a config naming their diff IDs, an image manifest and index.json tagging it v1.
  local layout="$work/layout"
  mkdir -p "$layout/blobs/sha256"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  local i hex diff size descriptors="" diff_ids=""
  for ((i = 0; i < layers; i++)); do
    head -c $((layer_mib * 1024 * 1024)) /dev/urandom >"$work/layer$i"
    diff=$(sha256_of "$work/layer$i")
    gzip -1 -n -c "$work/layer$i" >"$work/layer$i.gz"
    rm -f "$work/layer$i"
    size=$(stat -c %s "$work/layer$i.gz")
    hex=$(add_blob "$layout" "$work/layer$i.gz")
    descriptors+="${descriptors:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$hex\",\"size\":$size}"
    diff_ids+="${diff_ids:+,}\"sha256:$diff\""
  done
  printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$diff_ids" >"$work/config"
  local config_size config_hex
  config_size=$(stat -c %s "$work/config")
  config_hex=$(add_blob "$layout" "$work/config")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[%s]}' \
    "$config_hex" "$config_size" "$descriptors" >"$work/manifest"
  local manifest_size manifest_hex
  manifest_size=$(stat -c %s "$work/manifest")
  manifest_hex=$(add_blob "$layout" "$work/manifest")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' \
    "$manifest_hex" "$manifest_size" >"$layout/index.json"
  local total
  total=$(du -sb "$layout/blobs" | cut -f1)
  # Warm the page cache so both contenders read from memory.
  cat "$layout"/blobs/sha256/* >/dev/null
  echo "bench-push: $layers layers x $layer_mib MiB random (gzip), $total blob bytes, $(nproc) cores"

  # RUNS rounds; in each, each contender pushes into its own fresh, empty registry, the one that
  # goes first alternating. The ratio is of the medians. skopeo gets an empty HOME, so its blob
  # info cache knows of no earlier copy to mount from.
  local runs=${RUNS:-5} run ours_port=""
  local skopeo_times=() ours_times=()
  mkdir -p "$work/home"
  time_skopeo() {
    local port t0 t1
    port=$(start_registry "$work/registry-skopeo-$1")
    t0=$(now)
    HOME="$work/home" skopeo copy --quiet --dest-tls-verify=false \
      "oci:$layout:v1" "docker://127.0.0.1:$port/bench/app:v1" >/dev/null
    t1=$(now)
    skopeo_times+=("$(calc "$t1 - $t0")")
    stop_registry "$work/registry-skopeo-$1"
  }
  time_ours() {
    local t0 t1
    [ -z "$ours_port" ] || stop_registry "$work/registry-ours-$(($1 - 1))"
    ours_port=$(start_registry "$work/registry-ours-$1")
    t0=$(now)
    UNISONCTL_QUIET=1 "$bin" oci push "oci:$layout:v1" "127.0.0.1:$ours_port/bench/app:v1" --json >"$work/push1.json"
    t1=$(now)
    ours_times+=("$(calc "$t1 - $t0")")
  }
  for ((run = 1; run <= runs; run++)); do
    if ((run % 2)); then time_skopeo "$run"; time_ours "$run"; else time_ours "$run"; time_skopeo "$run"; fi
  done
  local skopeo_time ours_time
  skopeo_time=$(median "${skopeo_times[@]}")
  ours_time=$(median "${ours_times[@]}")
  echo "bench-push: skopeo copy runs: ${skopeo_times[*]}"
  echo "bench-push: unisonctl oci push runs: ${ours_times[*]}"

  # The re-push, into the registry of the last round: every blob is there already.
  local t0 t1
  t0=$(now)
  UNISONCTL_QUIET=1 "$bin" oci push "oci:$layout:v1" "127.0.0.1:$ours_port/bench/app:v1" --json >"$work/push2.json"
  t1=$(now)
  local repush_time
  repush_time=$(calc "$t1 - $t0")

  field() { sed -n "s/.*\"$1\" *: *\([0-9]*\).*/\1/p" "$2" | head -n 1; }
  local first_bytes repush_bytes repush_skipped
  first_bytes=$(field bytesTransferred "$work/push1.json")
  repush_bytes=$(field bytesTransferred "$work/push2.json")
  repush_skipped=$(field blobsSkipped "$work/push2.json")
  if [ -z "$first_bytes" ] || [ -z "$repush_bytes" ]; then die "no bytesTransferred in unisonctl's --json report"; fi
  [ "$first_bytes" -gt 0 ] || die "the first push sent no blob bytes"

  # Independent check: skopeo reads back the manifest unisonctl pushed, by digest.
  local pushed
  pushed=$(skopeo inspect --raw --tls-verify=false "docker://127.0.0.1:$ours_port/bench/app:v1" | sha256sum | cut -d' ' -f1)
  [ "$pushed" = "$manifest_hex" ] || die "the registry holds manifest sha256:$pushed, not sha256:$manifest_hex"

  printf '\n%-30s %10s %16s %12s\n' "pusher" "seconds" "blob bytes sent" "time/skopeo"
  printf '%-30s %10.2f %16s %12.3f\n' "skopeo copy (median)" "$skopeo_time" "-" 1
  printf '%-30s %10.2f %16d %12.3f\n' "unisonctl oci push (median)" "$ours_time" "$first_bytes" "$(calc "$ours_time / $skopeo_time")"
  printf '%-30s %10.2f %16d %12.3f\n' "unisonctl oci push (re-push)" "$repush_time" "$repush_bytes" "$(calc "$repush_time / $skopeo_time")"
  local ratio verdict=met
  ratio=$(calc "$ours_time / $skopeo_time")
  awk "BEGIN { exit !($ratio <= 0.7 && $repush_bytes == 0) }" || verdict="NOT met"
  printf '\ngoal (issue 17): registry push %.3fx the time of skopeo copy (goal <= 0.70); re-push %.2f s sending %d blob bytes (goal 0; %s blobs only asked for): %s\n' \
    "$ratio" "$repush_time" "$repush_bytes" "${repush_skipped:-?}" "$verdict"
  echo "(skopeo inspect reads back manifest sha256:$manifest_hex)"
}

main "$@"
