#!/usr/bin/env bash
# Runs every test tier (unit, interop, integration) of unisonctl. Tests start the real
# components they need (docker-registry, QEMU, HTTP servers) on 127.0.0.1 themselves.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build --build-tests
swift test --skip-build "$@"
