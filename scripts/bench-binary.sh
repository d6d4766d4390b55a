#!/usr/bin/env bash
# Benchmark (not a test): the size and start-up time of the unisonctl binary every image
# carries (issue 17, goal 3): at most 25 MB static and stripped; `unisonctl --version` about
# 8 ms and `unisonctl spec validate` about 20 ms. Prints the binary's size as built and
# stripped, the median wall time of each command over RUNS runs, and each goal's verdict.
#
# Usage: scripts/bench-binary.sh
#   UNISONCTL_BIN: the unisonctl to measure (default: the static release build, built when missing)
#   RUNS: runs per command (default 21)
set -euo pipefail

die() { echo "bench-binary: $*" >&2; exit 2; }
# shellcheck source=scripts/lib/bench.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/bench.sh"

# Median wall time in milliseconds of RUNS runs of "$@" (output discarded).
median_ms() {
  local runs=$1; shift
  local i t0 t1 times=()
  "$@" >/dev/null 2>&1 || die "'$*' failed"
  for ((i = 0; i < runs; i++)); do
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v n="$runs" 'NR == int((n + 1) / 2) { printf "%.2f", $1 / 1000 }'
}

main() {
  local here root
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  root=$(cd "$here/.." && pwd)
  local runs=${RUNS:-21}
  local bin
  bin=$(bench_unisonctl "$root")
  command -v strip >/dev/null 2>&1 || die "strip not found (binutils)"

  work=$(mktemp -d /tmp/unison-bench-binary.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  cp "$bin" "$work/unisonctl"
  strip --strip-all "$work/unisonctl"
  local size stripped
  size=$(stat -c %s "$bin")
  stripped=$(stat -c %s "$work/unisonctl")
  local linkage="static"
  if command -v ldd >/dev/null 2>&1 && ldd "$bin" 2>/dev/null | grep -q 'libswiftCore'; then linkage="dynamic Swift runtime"; fi

  # What is linked in, read from the bytes (works on a stripped binary): ICU's data archive is
  # named icudt<version>l; CoreFoundation's C symbols name the full Foundation (Process,
  # FileHandle, NSRegularExpression, DateFormatter, String(format:) all live there).
  local icu=no foundation=no
  grep -a -q 'icudt[0-9][0-9]*l' "$work/unisonctl" && icu=yes
  grep -a -q 'CFStringCreateWithCString' "$work/unisonctl" && foundation=yes

  local version validate
  version=$(median_ms "$runs" "$work/unisonctl" --version)
  validate=$(median_ms "$runs" "$work/unisonctl" spec validate "$root/unison.yaml")

  printf '%-34s %14s\n' "measure" "value"
  printf '%-34s %14d bytes (%s)\n' "binary as built" "$size" "$linkage"
  printf '%-34s %14d bytes (%.1f MB)\n' "stripped" "$stripped" "$(calc "$stripped / 1000000")"
  printf '%-34s %14s\n' "full Foundation (CoreFoundation)" "$foundation"
  printf '%-34s %14s\n' "ICU data (icudt)" "$icu"
  printf '%-34s %14s ms (median of %d)\n' "unisonctl --version" "$version" "$runs"
  printf '%-34s %14s ms (median of %d)\n' "unisonctl spec validate" "$validate" "$runs"
  echo
  local verdict=met
  awk "BEGIN { exit !($stripped <= 25000000) }" || verdict="NOT met"
  printf 'goal (issue 17): stripped binary %.1f MB (goal <= 25 MB): %s\n' "$(calc "$stripped / 1000000")" "$verdict"
  printf 'start-up (issue 17 keeps today'"'"'s 8 ms and 20 ms): --version %s ms, spec validate %s ms\n' "$version" "$validate"
}

main "$@"
