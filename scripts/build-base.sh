#!/usr/bin/env bash
# Builds the Debian base rootfs the image targets start from, once, with mmdebstrap, and
# caches it outside the repository:
#
#   ${UNISONCTL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/unisonctl}/bases/<name>.tar
#
# The suite, mirror and package list come from the `bases:` entry of unison.yaml (default
# name: debian-trixie, kind: mmdebstrap). Idempotent: does nothing when the tarball exists
# (pass --force to rebuild). The tarball keeps the kernel (/boot/vmlinuz-*), the initramfs
# (/boot/initrd.img-*) and systemd-boot's EFI binary for the VM target; the WSL target drops
# them itself. Reproducible for a given mirror state: SOURCE_DATE_EPOCH is fixed (the one from
# the environment, else 2024-01-01) and host-specific files are removed or written fixed.
#
# Usage: scripts/build-base.sh [--force] [--spec FILE] [NAME]
set -euo pipefail

die() { echo "build-base: $*" >&2; exit 2; }

# Prints "suite<TAB>mirror<TAB>pkg,pkg,..." for base NAME of the spec. A small reader for the
# `bases:` block: block-style entries (`- name: x` then `key: value` lines) with `packages`
# either as a flow list `[a, b]` or as a block list of `- item` lines.
read_base() {
  local spec=$1 name=$2
  awk -v want="$name" '
    function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); gsub(/^["\047]|["\047]$/, "", s); return s }
    function flush() {
      if (cur == want && !done) { print suite "\t" mirror "\t" pkgs "\t" kind; done = 1 }
    }
    /^[^ \t#]/ { if (inbases) flush(); inbases = ($0 ~ /^bases:/); cur = ""; next }
    !inbases { next }
    /^[ \t]*#/ || /^[ \t]*$/ { next }
    /^  - name:/ { flush(); line = $0; sub(/^  - name:/, "", line); cur = trim(line)
                    suite = ""; mirror = ""; pkgs = ""; kind = ""; inpkgs = 0; next }
    /^    [a-zA-Z]+:/ {
      line = $0; sub(/^    /, "", line); key = line; sub(/:.*/, "", key); val = line; sub(/^[^:]*:/, "", val)
      sub(/[ \t]+#.*$/, "", val); val = trim(val); inpkgs = 0
      if (key == "suite") suite = val
      else if (key == "mirror") mirror = val
      else if (key == "kind") kind = val
      else if (key == "packages") {
        if (val ~ /^\[/) { gsub(/[\[\]]/, "", val); n = split(val, a, ","); pkgs = ""
          for (i = 1; i <= n; i++) { p = trim(a[i]); if (p != "") pkgs = pkgs (pkgs == "" ? "" : ",") p } }
        else inpkgs = 1
      }
      next
    }
    inpkgs && /^      - / { line = $0; sub(/^      - /, "", line); p = trim(line)
                          if (p != "") pkgs = pkgs (pkgs == "" ? "" : ",") p; next }
    END { if (inbases) flush() }
  ' "$spec"
}

main() {
  local force=0 spec="" name="debian-trixie"
  while (($#)); do
    case $1 in
      --force) force=1 ;;
      --spec) spec=${2:?--spec needs a file}; shift ;;
      -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
      -*) die "unknown option $1" ;;
      *) name=$1 ;;
    esac
    shift
  done
  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  spec=${spec:-${UNISON_SPEC:-$here/../unison.yaml}}
  [ -f "$spec" ] || die "spec $spec not found"

  local cache=${UNISONCTL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/unisonctl}
  local out="$cache/bases/$name.tar"

  local fields suite mirror packages kind
  fields=$(read_base "$spec" "$name")
  [ -n "$fields" ] || die "no base named '$name' under bases: in $spec"
  # The cached tarball is reused only while what made it is unchanged: the spec's entry for
  # this base and this script (its hooks). A stale cache would otherwise hide a package that
  # was added to the spec.
  local inputs
  inputs="$(printf '%s\n' "$fields"; sha256sum <"${BASH_SOURCE[0]}" | cut -d' ' -f1)"
  if [ -s "$out" ] && [ "$force" = 0 ]; then
    if [ "$(cat "$out.inputs" 2>/dev/null)" = "$inputs" ]; then
      echo "build-base: $out present and current (pass --force to rebuild)"
      return 0
    fi
    echo "build-base: $out was made from other inputs (spec entry or this script changed): rebuilding"
  fi
  IFS=$'\t' read -r suite mirror packages kind <<<"$fields"
  [ "$kind" = mmdebstrap ] || die "base '$name' in $spec has kind '$kind'; this script builds kind: mmdebstrap"
  [ -n "$suite" ] || die "base '$name' in $spec has no suite"
  [ -n "$mirror" ] || die "base '$name' in $spec has no mirror"
  command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap not found (install it with: apt-get install mmdebstrap)"

  mkdir -p "$cache/bases"
  local tmp
  tmp=$(mktemp "$cache/bases/.$name.tar.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  echo "build-base: building $name ($suite from $mirror; packages: ${packages:-none}) into $out"
  local started=$SECONDS
  # minbase keeps the base small; the spec's packages add systemd, the kernel and what first
  # boot needs. The customize hooks drop host-specific files so the output only depends on
  # the mirror state and SOURCE_DATE_EPOCH (see mmdebstrap(1), SOURCE_DATE_EPOCH). openssh-server's
  # host keys are removed (each machine makes its own at first boot) and its unit is left
  # disabled: only answers with an SSH key or unison.ssh-server: true turn it on.
  # shellcheck disable=SC2016 # "$1" is expanded by mmdebstrap's hook runner, not here
  SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1704067200} \
    mmdebstrap --quiet --variant=minbase --format=tar --components=main \
      ${packages:+--include="$packages"} \
      --customize-hook='rm -f "$1/etc/resolv.conf"' \
      --customize-hook='echo unisonos > "$1/etc/hostname"; chmod 0644 "$1/etc/hostname"' \
      --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
      --customize-hook='rm -f "$1/etc/systemd/system/multi-user.target.wants/ssh.service" "$1/etc/systemd/system/sshd.service"' \
      "$suite" "$tmp" "$mirror"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$out"
  printf '%s\n' "$inputs" >"$out.inputs"
  trap - EXIT
  echo "build-base: wrote $out ($(du -h "$out" | cut -f1)) in $((SECONDS - started)) s"
}

main "$@"
