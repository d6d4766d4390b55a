#!/usr/bin/env bash
# Benchmark (not a test): unisonctl's VM disk pipeline (native GPT, FAT32, ext4 and qcow2/vmdk
# encoders, VMDK grains deflated by libdeflate) against the usual tool chain on the same root
# filesystem: sgdisk + mkfs.vfat + mcopy + `mke2fs -d` into a raw disk, then `qemu-img convert
# -O qcow2` and `qemu-img convert -O vmdk -o subformat=streamOptimized`. Prints wall time and
# size of each, the ratios ours / reference (below 1: ours is faster or smaller), and the goals
# of issue 17: qcow2 in at most 0.7x and VMDK in at most 0.5x the reference's time.
#
# Usage: scripts/bench-disk.sh [ROOTFS_DIR_OR_TARBALL]
#   default: the cached Debian base (scripts/build-base.sh)
#   UNISONCTL_BIN: the unisonctl to use (default: a release build, built when missing)
#   DISK_SIZE: virtual disk size in MiB (default 4096)
set -euo pipefail

die() { echo "bench-disk: $*" >&2; exit 2; }
# shellcheck source=scripts/lib/bench.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/bench.sh"

size_of() { stat -c %s "$1"; }

main() {
  local here root
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  root=$(cd "$here/.." && pwd)
  local disk_mib=${DISK_SIZE:-4096}
  local bin
  bin=$(bench_unisonctl "$root")
  local tool
  for tool in tar mke2fs mkfs.vfat mcopy mmd sgdisk qemu-img dd truncate; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found (see scripts/setup.sh)"
  done

  # Global, so the EXIT trap still sees it after main returns.
  work=$(mktemp -d /tmp/unison-bench-disk.XXXXXX)
  trap 'rm -rf "$work"' EXIT

  local source
  source=${1:-$(bench_default_base)}
  local rootfs
  rootfs=$(bench_rootfs "$source" "$work/rootfs")
  local kernel initrd loader
  kernel=$(find "$rootfs/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -1)
  [ -n "$kernel" ] || die "no /boot/vmlinuz-* in $source"
  initrd="$rootfs/boot/initrd.img-${kernel##*/vmlinuz-}"
  [ -f "$initrd" ] || die "no initrd for $kernel"
  loader="$rootfs/usr/lib/systemd/boot/efi/systemd-bootx64.efi"
  [ -f "$loader" ] || loader=/usr/lib/systemd/boot/efi/systemd-bootx64.efi
  [ -f "$loader" ] || die "no systemd-bootx64.efi in the rootfs or on the host"

  local epoch=${SOURCE_DATE_EPOCH:-1704067200}
  local t0 t1
  declare -A ours_time ours_size ref_time ref_size

  # Ours: one build per format, each from the base (tree, ESP, ext4, encoder), as a release runs it.
  local format
  for format in qcow2 vmdk; do
    echo "bench-disk: unisonctl image build vm --format $format"
    t0=$(now)
    UNISONCTL_QUIET=1 SOURCE_DATE_EPOCH=$epoch "$bin" image build vm --spec "$root/unison.yaml" --base "$source" \
      --format "$format" --disk-size "${disk_mib}MiB" --version bench --out "$work/ours" --unisonctl-binary "$bin" >/dev/null
    t1=$(now)
    ours_time[$format]=$(calc "$t1 - $t0")
    ours_size[$format]=$(size_of "$work/ours/unisonos-linux-vm-bench.$format")
  done

  # Reference: the same layout (1 MiB-aligned 256 MiB ESP, ext4 root) with the usual tools.
  echo "bench-disk: reference: sgdisk, mkfs.vfat + mcopy, mke2fs -d, qemu-img convert"
  local raw="$work/ref.raw" esp="$work/esp.img" ext4="$work/root.ext4"
  local esp_mib=256 root_mib=$((disk_mib - 256 - 2))
  t0=$(now)
  truncate -s "${disk_mib}M" "$raw"
  sgdisk -q -n "1:2048:+${esp_mib}M" -t 1:EF00 -n "2:0:+${root_mib}M" -t 2:8304 "$raw"
  truncate -s "${esp_mib}M" "$esp"
  mkfs.vfat -F 32 -n ESP "$esp" >/dev/null
  MTOOLS_SKIP_CHECK=1 mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries ::/unisonos
  MTOOLS_SKIP_CHECK=1 mcopy -i "$esp" "$loader" ::/EFI/BOOT/BOOTX64.EFI
  MTOOLS_SKIP_CHECK=1 mcopy -i "$esp" "$kernel" "$initrd" ::/unisonos/
  truncate -s "${root_mib}M" "$ext4"
  E2FSPROGS_FAKE_TIME=$epoch mke2fs -q -F -t ext4 -d "$rootfs" "$ext4"
  dd if="$esp" of="$raw" bs=1M seek=1 conv=notrunc,sparse status=none
  dd if="$ext4" of="$raw" bs=1M seek=$((1 + esp_mib)) conv=notrunc,sparse status=none
  t1=$(now)
  local prefix
  prefix=$(calc "$t1 - $t0")
  t0=$(now)
  qemu-img convert -O qcow2 "$raw" "$work/ref.qcow2"
  t1=$(now)
  ref_time[qcow2]=$(calc "$prefix + $t1 - $t0")
  ref_size[qcow2]=$(size_of "$work/ref.qcow2")
  t0=$(now)
  qemu-img convert -O vmdk -o subformat=streamOptimized "$raw" "$work/ref.vmdk"
  t1=$(now)
  ref_time[vmdk]=$(calc "$prefix + $t1 - $t0")
  ref_size[vmdk]=$(size_of "$work/ref.vmdk")

  echo
  printf '%-6s %10s %10s %8s %14s %14s %8s\n' format "ours s" "ref s" "time" "ours bytes" "ref bytes" "size"
  for format in qcow2 vmdk; do
    printf '%-6s %10.2f %10.2f %8.3f %14d %14d %8.3f\n' "$format" "${ours_time[$format]}" "${ref_time[$format]}" \
      "$(calc "${ours_time[$format]} / ${ref_time[$format]}")" "${ours_size[$format]}" "${ref_size[$format]}" \
      "$(calc "${ours_size[$format]} / ${ref_size[$format]}")"
  done
  echo "(reference times include the shared raw-disk build of $(printf '%.2f' "$prefix") s; ratios are ours / reference)"

  # Every artifact read back by qemu-img; ours and the reference hold the same number of bytes.
  for format in qcow2 vmdk; do
    qemu-img check -q -f "$format" "$work/ours/unisonos-linux-vm-bench.$format" || die "qemu-img check failed for our $format"
  done
  echo
  local goal ratio verdict
  for row in qcow2:0.7 vmdk:0.5; do
    format=${row%%:*}
    goal=${row#*:}
    ratio=$(calc "${ours_time[$format]} / ${ref_time[$format]}")
    verdict=met
    awk "BEGIN { exit !($ratio <= $goal) }" || verdict="NOT met"
    printf 'goal (issue 17): %-5s %.3fx the reference time (goal <= %s): %s\n' "$format" "$ratio" "$goal" "$verdict"
  done
}

main "$@"
