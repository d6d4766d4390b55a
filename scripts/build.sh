#!/usr/bin/env bash
# Builds the UnisonOS release artifacts from the shipped unison.yaml into out/:
# installs what the build needs, builds unisonctl (release, static Swift stdlib), validates the
# spec, then builds every image target this toolchain supports.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
swift build -c release --static-swift-stdlib --product unisonctl
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)/unisonctl
"$bin" spec validate unison.yaml
out=${OUT:-out}
mkdir -p "$out"
for target in wsl vm; do
  if "$bin" image build "$target" --help >/dev/null 2>&1; then
    "$bin" image build "$target" --out "$out" --unisonctl-binary "$bin"
  fi
done
ls -l "$out"
