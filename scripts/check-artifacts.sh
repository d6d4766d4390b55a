#!/usr/bin/env bash
# Checks the artifacts scripts/build.sh wrote, each with a tool that is not ours, and boots
# every bootable one in QEMU (TCG) until the first-boot marker of the spec's qa.boot:
#   WSL  .tar.gz / .wsl   gzip -t, GNU tar and bsdtar list them, the two are the same bytes
#   VM   .qcow2 / .vmdk   qemu-img check, qemu-img compare (same disk in both formats),
#                         `unisonctl qa boot` of the qcow2 under OVMF
#   ISO  .iso             its .sha256 checked, xorriso lists the boot entries; installed in QEMU
#                         onto a blank disk (`unisonctl qa install`: that boots the ISO). The disk
#                         it installed is not booted here: scripts/check-stack-boot.sh installs an
#                         ISO of the same installer (carrying the test stack) onto a blank 20 GiB
#                         disk and boots that, through the same first boot, which costs one TCG
#                         boot less (~1.5 min)
#   stack                 scripts/check-stack-boot.sh: the ISO carrying the VM disk with the test
#                         stack preloaded installs onto a blank 20 GiB disk, which boots to
#                         UNISONOS-STACK-OK with the root grown, then qa.smoke runs from the host
#                         against the guest (`qa boot --smoke`); the WSL distribution's store is
#                         extracted and verified
#   unisonctl             the release binary links neither CoreFoundation nor ICU data
#   release               `unisonctl release verify`: SSH signatures, SHA256SUMS, each SBOM against
#                         its artifact, provenance subjects, nothing unlisted
# Every artifact and every tool is required: a missing one fails the run, naming it.
# Usage: scripts/check-artifacts.sh [OUT]   (default: out, as build.sh; UNISONCTL_BIN overrides the binary)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-${OUT:-out}}
bin=${UNISONCTL_BIN:-$(scripts/unisonctl-release.sh --path)}
[[ -x $bin ]] || { echo "check-artifacts: $bin missing: run scripts/build.sh first" >&2; exit 2; }
[[ -d $out ]] || { echo "check-artifacts: no output directory $out: run scripts/build.sh first" >&2; exit 1; }
missing=()
for tool in gzip tar bsdtar cmp qemu-img sha256sum xorriso qemu-system-x86_64; do
  command -v "$tool" >/dev/null || missing+=("tool $tool (not on PATH; scripts/setup.sh installs it)")
done
# One artifact per image target the README promises (scripts/build.sh builds them all).
for glob in 'unisonos-wsl2-*.tar.gz' 'unisonos-wsl2-*.wsl' 'unisonos-linux-vm-*.qcow2' 'unisonos-linux-vm-*.vmdk' 'unisonos-baremetal-*.iso'; do
  compgen -G "$out/$glob" >/dev/null || missing+=("artifact $glob (in $out)")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  printf 'check-artifacts: missing %s\n' "${missing[@]}" >&2
  exit 1
fi

one() { # the single file matching a glob in $out, or a clear failure
  # shellcheck disable=SC2206 # $1 is a glob, expanded on purpose
  local matches=("$out"/$1)
  [[ ${#matches[@]} -eq 1 && -f ${matches[0]} ]] || { echo "check-artifacts: expected one $1 in $out, found: ${matches[*]}" >&2; exit 1; }
  printf '%s\n' "${matches[0]}"
}

echo "== unisonctl: the binary every image carries"
# No module may link full Foundation (CoreFoundation, ICU and its data, +44 MB): its C symbols
# and ICU's data archive name are read from the bytes, as scripts/bench-binary.sh does.
if grep -a -q 'CFStringCreateWithCString' "$bin" || grep -a -q 'icudt[0-9][0-9]*l' "$bin"; then
  echo "check-artifacts: $bin links full Foundation or ICU data (every module must use FoundationEssentials)" >&2
  exit 1
fi
# Issue 17's size goal: the binary every image carries stays at most 25 MB (stripped).
stripped=$(mktemp /tmp/unisonctl-stripped.XXXXXX)
strip --strip-all -o "$stripped" "$bin"
size=$(stat -c %s "$stripped")
rm -f "$stripped"
if ((size > 25000000)); then
  echo "check-artifacts: $bin is $size bytes stripped, over the 25 MB goal (docs/performance.md, \"Binary size\")" >&2
  exit 1
fi
echo "$bin: $size bytes (goal <= 25 MB), no CoreFoundation, no ICU data"

echo "== release: signatures, checksums, SBOMs, provenance"
"$bin" release verify "$out"

echo "== WSL"
targz=$(one 'unisonos-wsl2-*.tar.gz')
wsl=$(one 'unisonos-wsl2-*.wsl')
gzip -t "$targz"
entries=$(tar -tzf "$targz" | wc -l)
bsd=$(bsdtar -tf "$wsl" | wc -l)
[[ $entries -gt 1000 && $entries -eq $bsd ]] || { echo "check-artifacts: $targz lists $entries entries, $wsl $bsd" >&2; exit 1; }
cmp "$targz" "$wsl"
tar -xzOf "$targz" etc/wsl.conf etc/wsl-distribution.conf >/dev/null
echo "$targz: $entries entries, gzip and tar agree; .wsl identical"

echo "== VM"
qcow2=$(one 'unisonos-linux-vm-*.qcow2')
vmdk=$(one 'unisonos-linux-vm-*.vmdk')
qemu-img check -f qcow2 "$qcow2"
qemu-img check -f vmdk "$vmdk"
qemu-img compare -f qcow2 -F vmdk "$qcow2" "$vmdk"
serial=$(mktemp)
"$bin" qa boot "$qcow2" --firmware uefi --serial-log "$serial"
# The image's own unisonctl ran first boot: its "firstboot:" lines are on the console. Without
# them the shell fallback printed the marker, which means the shipped binary cannot start there.
grep -q 'firstboot: ' "$serial" || { echo "check-artifacts: first boot of $qcow2 did not run the image's unisonctl (shell fallback)" >&2; exit 1; }
rm -f "$serial"

echo "== ISO"
iso=$(one 'unisonos-baremetal-*.iso')
(cd "$(dirname "$iso")" && sha256sum -c "$(basename "$iso").sha256")
xorriso -indev "$iso" -report_el_torito plain 2>/dev/null
# Install it unattended onto a blank disk under OVMF (its installed disk's first boot is proven
# by the stack check below, on the disk an ISO of the same installer installed).
target=$(mktemp -d)/installed.qcow2
"$bin" qa install "$iso" --target "$target" --target-size 6GiB --firmware uefi --timeout 1800
rm -rf "$(dirname "$target")"

echo "== Test stack: the ISO-installed VM disk to UNISONOS-STACK-OK, root grown, smoke from the host"
scripts/check-stack-boot.sh "$bin"
echo "check-artifacts: all good"
