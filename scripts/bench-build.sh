#!/usr/bin/env bash
# Benchmark (not a test): the release build's image step, goal 4 of issue 17. Times
# `unisonctl image build all --targets wsl,vm,iso` from the cached base and a built binary in
# one run, as scripts/build.sh runs it, and prints the time against the 60 s goal.
#
# Usage: scripts/bench-build.sh
#   UNISONCTL_BIN: the unisonctl to use (default: scripts/unisonctl-release.sh's build, as
#                  scripts/build.sh makes it); it is also the binary the images carry
#   SEPARATE=1:    also time the three `image build <target>` commands one after another
#   KEEP=DIR:      write the artifacts to DIR (emptied first) and keep them
set -euo pipefail

die() { echo "bench-build: $*" >&2; exit 2; }
# shellcheck source=scripts/lib/bench.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/bench.sh"

calc() { awk "BEGIN { printf \"%.1f\", $1 }"; }

main() {
  local here root
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  root=$(cd "$here/.." && pwd)
  local bin
  bin=$(bench_unisonctl "$root")
  local cache=${UNISONCTL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/unisonctl}/bases
  compgen -G "$cache/*.tar" >/dev/null || die "no cached base in $cache (build it with scripts/build-base.sh)"

  # Global, so the EXIT trap still sees it after main returns.
  work=$(mktemp -d /tmp/unison-bench-build.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  local out=${KEEP:-$work/out}
  rm -rf -- "$out"
  mkdir -p "$out"
  local spec=$root/unison.yaml
  # The same epoch for every run: the same bytes, whatever the clock.
  export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1700000000}
  echo "bench-build: $(nproc) cores, $("$bin" --version), base cache $cache"

  # Warm the page cache with the base, as a release machine that built it would have it.
  cat "$cache"/*.tar >/dev/null

  local t0 t1 together
  t0=$(now)
  "$bin" image build all --targets wsl,vm,iso --spec "$spec" --out "$out" --unisonctl-binary "$bin"
  t1=$(now)
  together=$(calc "$t1 - $t0")
  ls -l "$out"

  if [ -n "${SEPARATE:-}" ]; then
    local separate=$work/separate t target total=0
    mkdir -p "$separate"
    for target in wsl vm iso; do
      t0=$(now)
      "$bin" image build "$target" --spec "$spec" --out "$separate" --unisonctl-binary "$bin"
      t1=$(now)
      t=$(calc "$t1 - $t0")
      echo "bench-build: image build $target alone: $t s"
      total=$(calc "$total + $t")
    done
    echo "bench-build: three separate commands: $total s"
    # The one run must write what the three commands write.
    (cd "$out" && sha256sum -- unisonos-*) >"$work/together.sums"
    (cd "$separate" && sha256sum -- unisonos-*) >"$work/separate.sums"
    if cmp -s "$work/together.sums" "$work/separate.sums"; then
      echo "bench-build: artifacts identical to the separate builds"
    else
      diff "$work/separate.sums" "$work/together.sums" || true
      die "image build all wrote other bytes than the separate commands"
    fi
  fi

  local verdict="met"
  if awk "BEGIN { exit !($together > 60) }"; then verdict="NOT met"; fi
  echo "bench-build: image build all (wsl, vm, iso): $together s; goal <= 60 s: $verdict"
}

main "$@"
