#!/usr/bin/env bash
# Builds the UnisonOS release artifacts from the shipped unison.yaml into $OUT (default out/):
# installs what the build needs, builds unisonctl (release, static Swift stdlib), validates the
# spec, then builds every image target this toolchain supports.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
# The unisonctl that goes into the images: release build, Swift runtime linked in, symbols
# stripped, so it runs on a base without Swift.
release_flags=(-c release --static-swift-stdlib -Xlinker --strip-all)
swift build "${release_flags[@]}" --product unisonctl
bin=$(swift build "${release_flags[@]}" --show-bin-path)/unisonctl
"$bin" spec validate unison.yaml
out=${OUT:-out}
# VERSION names the artifacts (default: the spec's platform.version).
version_flag=()
if [[ -n ${VERSION:-} ]]; then version_flag=(--version "$VERSION"); fi
mkdir -p "$out"
for target in wsl vm iso; do
  if "$bin" image build "$target" --help >/dev/null 2>&1; then
    "$bin" image build "$target" --out "$out" --unisonctl-binary "$bin" "${version_flag[@]}"
  fi
done
# Provenance, SHA256SUMS and SSH signatures over them and the SBOMs the image builds wrote
# (docs/verify.md). The key: $UNISONCTL_SIGNING_KEY_FILE or $UNISONCTL_SIGNING_KEY, else one
# generated for this run (attest says so).
key_flag=(--ephemeral-key)
if [[ -n ${UNISONCTL_SIGNING_KEY_FILE:-} ]]; then key_flag+=(--key "$UNISONCTL_SIGNING_KEY_FILE"); fi
"$bin" release attest "$out" "${version_flag[@]}" "${key_flag[@]}"
ls -l "$out"
