#!/usr/bin/env bash
# The platform runs inside the VM disk and the ISO-installed disk, offline, and the WSL
# distribution carries it too: the test stack's
# images (built here by scripts/test-stack-images.sh from Debian's busybox-static, pushed to a
# docker-registry on 127.0.0.1) are preloaded into a VM disk built from the shipped base, and the
# installer ISO carries that same disk. The ISO is installed (`qa install`) onto a blank 20 GiB
# qcow2, and that disk boots under QEMU (TCG, 2 GiB guest) to UNISONOS-STACK-OK, printed by the
# image's own unisonctl after UNISONOS-FIRSTBOOT-OK, then the spec's qa.smoke checks run from the
# host (`qa boot --smoke`: SSH tunnels over a restricted user-mode network, the key and user from
# an answers file baked into the disk). The installer checks the written disk's SHA-256 against
# the VM disk's, so this one boot is the VM disk's boot too; with STACK_BOOT_ISO=0 the VM disk
# boots instead, behind a 20 GiB qcow2 overlay.
# The root filesystem must be reported grown past 15 GiB (first boot's
# "firstboot: root filesystem: DEVICE BYTES bytes" line; CHECK_ROOT_GROW=0 skips that check).
# Prints the time from power-on to the stack marker.
#
# Usage: scripts/check-stack-boot.sh UNISONCTL   (a unisonctl that runs in the guest: static stdlib)
# STACK_BOOT_BASE=TARBALL builds from another base (e.g. one that carries a debug build's Swift runtime).
# STACK_BOOT_ISO=0 boots the VM disk itself instead of building and installing the ISO.
set -euo pipefail
bin=$(realpath "${1:?usage: check-stack-boot.sh UNISONCTL}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d /tmp/unison-stack-boot.XXXXXX)
registry_pid=""
cleanup() { [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s/registry}}\nhttp: {addr: 127.0.0.1:%s}\n' \
  "$work" "$port" >"$work/registry.yml"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null && break; sleep 0.2; done
"$here/test-stack-images.sh" "$work/images" "127.0.0.1:$port"

# The shipped spec's base entry, verbatim (the cached base tarball is the one it names).
# The guest's network (DHCP from QEMU's user-mode stack, which lets it reach nothing) and a user
# the host logs in as with a fresh key: the stack publishes its ports on the guest's loopback.
ssh-keygen -q -t ed25519 -N '' -C qa@check-stack-boot -f "$work/id_ed25519"
cat >"$work/answers.yaml" <<ANSWERS
#cloud-config
users:
  - name: qa
    ssh_authorized_keys: ["$(cat "$work/id_ed25519.pub")"]
unison:
  network: dhcp
ANSWERS

base=$(sed -n '/^  - name: debian-trixie$/,/^  - name: debian-bookworm$/p' "$here/../unison.yaml" | sed '$d')
# The test stack's spec, shared with the tests (UnisonTestSupport's StackRegistry), the base put in.
awk -v base="$base" '$0 == "@BASE@" { print base; next } { print }' \
  "$here/../Tests/UnisonTestSupport/Fixtures/stack/stack.yaml" >"$work/stack.yaml"
"$bin" image build vm --spec "$work/stack.yaml" --out "$work/out" --version 9.9.9 --unisonctl-binary "$bin" \
  ${STACK_BOOT_BASE:+--base "$STACK_BOOT_BASE"} --image-registry "127.0.0.1:$port" --answers "$work/answers.yaml"
vm="$work/out/unisonos-linux-vm-9.9.9.qcow2"

# 0. The WSL distribution carries the same store (WSL cannot run here): GNU tar extracts its
# /var/lib/unison/images, `image verify-store` checks every blob, and the loader's drop-in is there.
"$bin" image build wsl --spec "$work/stack.yaml" --out "$work/wsl" --version 9.9.9 --unisonctl-binary "$bin" \
  ${STACK_BOOT_BASE:+--base "$STACK_BOOT_BASE"} --image-registry "127.0.0.1:$port"
mkdir "$work/wsl-root"
tar -xzf "$work/wsl/unisonos-wsl2-9.9.9.tar.gz" -C "$work/wsl-root" var/lib/unison/images etc/systemd/system/unison-platform.service.d
"$bin" image verify-store "$work/wsl-root/var/lib/unison/images"
grep -q 'unison-load-images' "$work/wsl-root"/etc/systemd/system/unison-platform.service.d/*.conf \
  || { echo "check-stack-boot: wsl: no image loader drop-in on the platform unit" >&2; exit 1; }
echo "check-stack-boot: wsl: the test stack's images are in the distribution, every blob verified"
rm -rf "$work/wsl" "$work/wsl-root"

min_root=$((15 * 1024 * 1024 * 1024))
# boot NAME DISK: boots DISK to UNISONOS-STACK-OK, runs qa.smoke against it, checks the console.
boot() {
  local name=$1 disk=$2 serial="$work/serial-$1.log" started=$SECONDS took
  "$bin" qa boot "$disk" --spec "$work/stack.yaml" --memory 2048 --timeout 600 --marker UNISONOS-STACK-OK \
    --serial-log "$serial" --smoke --ssh-user qa --ssh-key "$work/id_ed25519" --smoke-junit "$work/smoke-$name.xml" \
    || { tail -c 4000 "$serial" >&2; echo "check-stack-boot: $name: boot or smoke failed" >&2; exit 1; }
  took=$((SECONDS - started))
  grep -q 'firstboot: ' "$serial" || { echo "check-stack-boot: $name: first boot did not run the image's unisonctl" >&2; exit 1; }
  local first stack
  first=$(grep -an 'UNISONOS-FIRSTBOOT-OK' "$serial" | head -n 1 | cut -d: -f1)
  stack=$(grep -an 'UNISONOS-STACK-OK' "$serial" | head -n 1 | cut -d: -f1)
  if [ -z "$first" ] || [ "$first" -ge "$stack" ]; then echo "check-stack-boot: $name: UNISONOS-STACK-OK must follow UNISONOS-FIRSTBOOT-OK" >&2; exit 1; fi
  if [ "${CHECK_ROOT_GROW:-1}" = 1 ]; then
    local bytes
    bytes=$(root_bytes "$serial") || { echo "check-stack-boot: $name: no 'firstboot: root filesystem: DEVICE BYTES bytes' line on the console" >&2; exit 1; }
    [ "$bytes" -gt "$min_root" ] || { echo "check-stack-boot: $name: root filesystem is $bytes bytes, not grown past 15 GiB on a 20 GiB disk" >&2; exit 1; }
    echo "check-stack-boot: $name: root filesystem grown to $bytes bytes"
  fi
  echo "check-stack-boot: $name: power-on to UNISONOS-STACK-OK and smoke in $took s (TCG, 2 GiB guest)"
}
# root_bytes SERIAL: the BYTES of first boot's "firstboot: root filesystem: DEVICE BYTES bytes" line.
root_bytes() {
  tr -d '\r' <"$1" | sed -n 's/^.*firstboot: root filesystem: [^ ][^ ]* \([0-9][0-9]*\) bytes$/\1/p' | head -n 1 | grep .
}

if [ "${STACK_BOOT_ISO:-1}" = 1 ]; then
  # The ISO carrying the VM disk, installed onto a blank 20 GiB disk, which then boots.
  "$bin" image build iso --spec "$work/stack.yaml" --out "$work/iso" --version 9.9.9 \
    ${STACK_BOOT_BASE:+--base "$STACK_BOOT_BASE"} --payload "$vm"
  started=$SECONDS
  "$bin" qa install "$work/iso/unisonos-baremetal-9.9.9.iso" --target "$work/installed.qcow2" --target-size 20GiB \
    --firmware uefi --memory 2048 --timeout 1800 --serial-log "$work/install.log" \
    || { tail -c 4000 "$work/install.log" >&2; exit 1; }
  echo "check-stack-boot: ISO install onto 20 GiB in $((SECONDS - started)) s"
  rm -rf "$work/iso"
  boot iso-installed "$work/installed.qcow2"
else
  # The VM disk on a 20 GiB disk: an overlay, so the image stays as built and the root can grow.
  qemu-img create -q -f qcow2 -b "$vm" -F qcow2 "$work/vm-20g.qcow2" 20G
  boot vm "$work/vm-20g.qcow2"
fi
