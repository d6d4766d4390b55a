# shellcheck shell=bash
# What the scripts/bench-*.sh benchmarks share; sourced, not run. The sourcing script defines
# die() (its own name in front of the message).

# Floating-point arithmetic without bc: awk is in every Debian base.
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }

now() { date +%s.%N; }

# median NUMBER...: the middle value (the mean of the two middle ones for an even count).
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# bench_unisonctl ROOT: $UNISONCTL_BIN, else the binary the images carry (built when missing by
# scripts/unisonctl-release.sh, as scripts/build.sh builds it).
bench_unisonctl() {
  local bin=${UNISONCTL_BIN:-}
  [ -n "$bin" ] || bin=$("$1/scripts/unisonctl-release.sh") || die "the release build of unisonctl failed"
  [ -x "$bin" ] || die "unisonctl not found at $bin"
  printf '%s\n' "$bin"
}

# bench_default_base: the cached Debian base that scripts/build-base.sh writes by default
# (the spec's first base, debian-trixie; setup.sh builds it).
bench_default_base() {
  printf '%s\n' "${UNISONCTL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/unisonctl}/bases/debian-trixie.tar"
}

# bench_rootfs SOURCE DIR: SOURCE itself when it is a directory; a tarball is extracted into DIR
# (device nodes need root: without it they are left out), and DIR printed.
bench_rootfs() {
  local source=$1 dir=$2
  if [ -d "$source" ]; then
    printf '%s\n' "$source"
  elif [ -f "$source" ]; then
    mkdir -p "$dir"
    echo "extracting $source" >&2
    tar --numeric-owner -xf "$source" -C "$dir" 2>/dev/null || tar --exclude='./dev/*' -xf "$source" -C "$dir"
    printf '%s\n' "$dir"
  else
    die "$source not found (build the default base with scripts/build-base.sh, or pass a directory)"
  fi
}
