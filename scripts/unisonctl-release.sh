#!/usr/bin/env bash
# Builds the unisonctl that goes into the images and prints its path (the build's own output goes
# to stderr). Release configuration, Swift runtime linked in, symbols stripped, so it runs on a base
# without Swift. --no-export-dynamic undoes the driver's -export-dynamic: nothing loads plugins into
# unisonctl, and an exported symbol table only keeps every symbol of every module alive past
# --gc-sections (docs/performance.md). GNU ld packs the relative relocations (DT_RELR: 3.3 MB less
# than gold's .rela.dyn, the binary stays position-independent); the loader must be glibc 2.36 or
# newer (Debian 12 and 13, Ubuntu 24.04), as in every image and on the build hosts. Not lld: it
# takes a weak symbol from the first archive on the line that defines it, and the Swift driver
# lists libFoundation.a (which a dependency's `import Foundation` autolinks) before
# libFoundationEssentials.a, so lld alone pulled CoreFoundation and ICU back in (+43 MB).
# scripts/lib/release-link.ld drops the unwind tables (.eh_frame, 4.7 MB; nothing in unisonctl
# unwinds, see the file).
#
# Its own scratch directory, .build-release, keeps it apart from the debug build in .build (each
# has its own SwiftPM lock and neither rebuilds the other's products). build.sh,
# check-artifacts.sh, the Makefile and the benchmark scripts all take the binary from here.
#   scripts/unisonctl-release.sh          build (incremental), then print the path
#   scripts/unisonctl-release.sh --path   print the path only, without building
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
flags=(-c release --scratch-path .build-release --static-swift-stdlib -Xlinker --strip-all -Xlinker --no-export-dynamic
  -Xswiftc -use-ld=bfd -Xlinker -z -Xlinker pack-relative-relocs -Xlinker -T -Xlinker "$PWD/scripts/lib/release-link.ld")
case ${1:-} in
  '') swift build "${flags[@]}" --product unisonctl >&2 ;;
  --path) ;;
  *) echo "usage: scripts/unisonctl-release.sh [--path]" >&2; exit 2 ;;
esac
printf '%s/unisonctl\n' "$(swift build "${flags[@]}" --show-bin-path)"
