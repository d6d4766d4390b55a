#!/usr/bin/env bash
# Benchmark (not a test): unisonctl's own .tar.gz writer (parallel gzip) against
# `tar | gzip -6` and `tar | pigz -6` on the same root filesystem. Prints wall time and size
# of each, and the ratios to `tar | gzip -6`.
#
# Usage: scripts/bench-tar.sh [ROOTFS_DIR_OR_TARBALL]
#   default: the cached Debian base (scripts/build-base.sh), extracted to a temporary directory
#   UNISONCTL_BIN: the unisonctl to use (default: a release build, built when missing)
#   LEVEL: gzip level for all three (default 6)
set -euo pipefail

die() { echo "bench-tar: $*" >&2; exit 2; }
# shellcheck source=scripts/lib/bench.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/bench.sh"

main() {
  local here root
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  root=$(cd "$here/.." && pwd)
  local level=${LEVEL:-6}
  local bin
  bin=$(bench_unisonctl "$root")
  for tool in tar gzip pigz; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (install it with: apt-get install $tool)"
  done

  # Global, so the EXIT trap still sees it after main returns.
  work=$(mktemp -d /tmp/unison-bench-tar.XXXXXX)
  trap 'rm -rf "$work"' EXIT

  local source
  source=${1:-$(bench_default_base)}
  local rootfs
  rootfs=$(bench_rootfs "$source" "$work/rootfs")

  # Warm the page cache so every contender reads from memory.
  tar --numeric-owner -C "$rootfs" -cf - . >/dev/null
  local cores
  cores=$(nproc)
  echo "bench-tar: $(du -sh "$rootfs" | cut -f1) in $rootfs, $cores cores, gzip level $level"

  local t0 t1
  t0=$(now)
  tar --numeric-owner -C "$rootfs" -cf - . | gzip "-$level" -n > "$work/gzip.tar.gz"
  t1=$(now)
  local gzip_time gzip_size
  gzip_time=$(calc "$t1 - $t0")
  gzip_size=$(stat -c %s "$work/gzip.tar.gz")

  t0=$(now)
  tar --numeric-owner -C "$rootfs" -cf - . | pigz "-$level" -n -p "$cores" > "$work/pigz.tar.gz"
  t1=$(now)
  local pigz_time pigz_size
  pigz_time=$(calc "$t1 - $t0")
  pigz_size=$(stat -c %s "$work/pigz.tar.gz")

  t0=$(now)
  UNISONCTL_QUIET=1 "$bin" image tar "$rootfs" --out "$work/ours.tar.gz" --level "$level" >/dev/null
  t1=$(now)
  local ours_time ours_size
  ours_time=$(calc "$t1 - $t0")
  ours_size=$(stat -c %s "$work/ours.tar.gz")
  gzip -t "$work/ours.tar.gz" || die "our output does not pass gzip -t"

  # Independent readers: GNU tar and bsdtar list the same entries.
  local gnu bsd
  gnu=$(tar -tzf "$work/ours.tar.gz" | wc -l)
  bsd=$(bsdtar -tzf "$work/ours.tar.gz" 2>/dev/null | wc -l || echo "?")
  [ "$gnu" = "$bsd" ] || [ "$bsd" = "?" ] || die "GNU tar lists $gnu entries, bsdtar $bsd"

  printf '\n%-22s %10s %14s %12s %12s %12s %12s\n' "writer" "seconds" "bytes" "time/gzip" "size/gzip" "time/pigz" "size/pigz"
  local name time size
  for row in "tar | gzip -$level:$gzip_time:$gzip_size" "tar | pigz -$level:$pigz_time:$pigz_size" \
             "unisonctl image tar:$ours_time:$ours_size"; do
    IFS=: read -r name time size <<<"$row"
    printf '%-22s %10.2f %14d %12.2f %12.3f %12.3f %12.4f\n' "$name" "$time" "$size" \
      "$(calc "$time / $gzip_time")" "$(calc "$size / $gzip_size")" "$(calc "$time / $pigz_time")" "$(calc "$size / $pigz_size")"
  done
  local time_ratio size_ratio verdict=met
  time_ratio=$(calc "$ours_time / $pigz_time")
  size_ratio=$(calc "$ours_size / $pigz_size")
  awk "BEGIN { exit !($time_ratio <= 0.8 && $size_ratio <= 1.0) }" || verdict="NOT met"
  printf '\ngoal (issue 17): WSL .tar.gz %.3fx the time of tar | pigz -%s (goal <= 0.80) at %.4fx its size (goal <= 1): %s\n' \
    "$time_ratio" "$level" "$size_ratio" "$verdict"
  echo "(GNU tar and bsdtar list $gnu entries; gzip -t passed)"
}

main "$@"
