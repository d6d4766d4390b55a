#!/usr/bin/env bash
# The platform runs inside the VM disk, offline: the test stack's images (built here by
# scripts/test-stack-images.sh from Debian's busybox-static, pushed to a docker-registry on
# 127.0.0.1) are preloaded into a VM disk built from the shipped base, which must boot under
# QEMU (2 GiB guest) to UNISONOS-STACK-OK printed by the image's own unisonctl after
# UNISONOS-FIRSTBOOT-OK. Prints the time from power-on to the stack marker.
#
# Usage: scripts/check-stack-boot.sh UNISONCTL   (a unisonctl that runs in the guest: static stdlib)
# STACK_BOOT_BASE=TARBALL builds from another base (e.g. one that carries a debug build's Swift runtime).
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
base=$(sed -n '/^  - name: debian-trixie$/,/^  - name: debian-bookworm$/p' "$here/../unison.yaml" | sed '$d')
cat >"$work/stack.yaml" <<SPEC
schema: 1
platform: {name: unisonos, org: project-unisonos}
repos: [{name: unison-docs, role: docs}]
services: []
infrastructure:
  - {name: web, image: "docker.io/unisontest/http:1", port: 8090, hostPort: 8090, health: /health, command: [httpd, -f, -p, "8090", -h, /www]}
  - {name: api, image: "docker.io/unisontest/http:1", port: 8091, health: /readyz, command: [httpd, -f, -p, "8091", -h, /www], dependsOn: [web]}
  - {name: ollama, image: "docker.io/unisontest/ollama-standin:1", port: 11434, hostPort: 11434, profiles: [ollama], health: /api/version, command: [httpd, -f, -p, "11434", -h, /www]}
channels:
  nightly: {tags: ["type=edge,branch=main"]}
  beta: {tags: ["type=semver,pattern={{version}}"]}
  stable: {tags: ["type=semver,pattern={{version}}"]}
models:
  packs:
    - {name: light, minRam: 1MB, minDisk: 1MB}
bases:
$base
targets:
  images: preload
  vm: {base: debian-trixie, models: light, diskSize: 4GiB, formats: [qcow2]}
installer:
  secrets: [{name: TEST_SECRET, bytes: 16}]
  env: {UNISON_MODEL_PACK: light}
qa:
  boot: {marker: UNISONOS-FIRSTBOOT-OK, timeout: 900}
SPEC
"$bin" image build vm --spec "$work/stack.yaml" --out "$work/out" --version 9.9.9 --unisonctl-binary "$bin" \
  ${STACK_BOOT_BASE:+--base "$STACK_BOOT_BASE"} --image-registry "127.0.0.1:$port"
serial="$work/serial.log"
started=$SECONDS
"$bin" qa boot "$work/out/unisonos-linux-vm-9.9.9.qcow2" --spec "$work/stack.yaml" --memory 2048 --timeout 600 \
  --marker UNISONOS-STACK-OK --serial-log "$serial" || { tail -c 4000 "$serial" >&2; exit 1; }
took=$((SECONDS - started))
grep -q 'firstboot: ' "$serial" || { echo "check-stack-boot: first boot did not run the image's unisonctl" >&2; exit 1; }
first=$(grep -an 'UNISONOS-FIRSTBOOT-OK' "$serial" | head -n 1 | cut -d: -f1)
stack=$(grep -an 'UNISONOS-STACK-OK' "$serial" | head -n 1 | cut -d: -f1)
if [ -z "$first" ] || [ "$first" -ge "$stack" ]; then echo "check-stack-boot: UNISONOS-STACK-OK must follow UNISONOS-FIRSTBOOT-OK" >&2; exit 1; fi
echo "check-stack-boot: power-on to UNISONOS-STACK-OK in $took s (TCG, 2 GiB guest)"
