#!/usr/bin/env bash
# Builds the UnisonOS release artifacts from the shipped unison.yaml into $OUT (default out/):
# installs what the build needs, builds unisonctl (release, static Swift stdlib), validates the
# spec, then builds every image target the README promises. A target that fails fails the run,
# naming it; nothing is skipped. $OUT is emptied first, so no artifact of an earlier run can
# stand in for one this run did not build.
#   UNISONCTL_BIN=path   use this unisonctl instead of building one (tests of this script)
#   SKIP_SETUP=1         do not run scripts/setup.sh (CI has just run it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The image targets of README.md ("What it does": image build wsl|vm|iso), in build order (the
# ISO after the VM, whose disk it carries).
targets=(wsl vm iso)

fail() { echo "build.sh: $*" >&2; exit 1; }

if [[ -z ${SKIP_SETUP:-} ]]; then scripts/setup.sh; fi
if [[ -n ${UNISONCTL_BIN:-} ]]; then
  bin=$UNISONCTL_BIN
else
  # The unisonctl that goes into the images (release, static Swift runtime, stripped).
  bin=$(scripts/unisonctl-release.sh)
fi
[[ -x $bin ]] || fail "unisonctl binary $bin missing"
"$bin" --version
"$bin" spec validate unison.yaml
out=${OUT:-out}
# VERSION names the artifacts (default: the spec's platform.version).
version_flag=()
if [[ -n ${VERSION:-} ]]; then version_flag=(--version "$VERSION"); fi

# A clean output directory: the default out/, one this script made (it holds the stamp) or an
# empty one is emptied; anything else is left alone and refused.
stamp=.unisonctl-build-output
if [[ -e $out ]]; then
  if [[ $out == out || -f $out/$stamp || -z $(ls -A "$out") ]]; then
    rm -rf -- "$out"
  else
    fail "$out exists and was not made by build.sh: remove it or set OUT to a new directory"
  fi
fi
mkdir -p "$out"
: >"$out/$stamp"

# One run builds every target: the base is read once, the VM disk laid out once and carried by
# the ISO. The targets are named, so one the spec lacks fails the run instead of being skipped.
# unisonctl names a target that fails ("image target 'vm' failed: ..."); its stderr is kept to
# repeat that name in this script's own message.
list=$(IFS=,; echo "${targets[*]}")
echo "== image build all --targets $list"
errors=$(mktemp)
trap 'rm -f -- "$errors"' EXIT
build_all() {
  "$bin" image build all --targets "$list" --out "$out" --unisonctl-binary "$bin" "${version_flag[@]}" \
    2>&1 1>&3 3>&- | tee "$errors" >&2 3>&-
  return "${PIPESTATUS[0]}"
}
if ! build_all 3>&1; then
  failed=$(sed -n "s/.*image target '\([a-z]*\)' failed.*/\1/p" "$errors" | head -n 1)
  [[ -n $failed ]] || fail "image build refused before any target was built (unisonctl image build all --targets $list)"
  fail "image target '$failed' failed (unisonctl image build all --targets $list)"
fi
# Provenance, SHA256SUMS and SSH signatures over them and the SBOMs the image builds wrote
# (docs/verify.md). The key: $UNISONCTL_SIGNING_KEY_FILE or $UNISONCTL_SIGNING_KEY, else one
# generated for this run (attest says so).
key_flag=(--ephemeral-key)
if [[ -n ${UNISONCTL_SIGNING_KEY_FILE:-} ]]; then key_flag+=(--key "$UNISONCTL_SIGNING_KEY_FILE"); fi
"$bin" release attest "$out" "${version_flag[@]}" "${key_flag[@]}"
ls -l "$out"
