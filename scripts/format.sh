#!/usr/bin/env bash
# Formats the Swift sources with the toolchain's `swift format` and the rules in .swift-format
# (4 spaces, lines up to 150 columns, existing line breaks kept where they fit).
#   scripts/format.sh            rewrite every Swift file of the package in place
#   scripts/format.sh --check    change nothing; fail with a diff when a checked file is not
#                                as the formatter would write it (scripts/test.sh runs this)
#   scripts/format.sh PATH...    only these files or directories (with or without --check)
# The check compares with what `swift format format` writes rather than running `lint
# --strict`, which also complains about lines the formatter cannot break (long string literals).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Everything the formatter owns.
all=(Package.swift Plugins Sources Tests)
# What --check holds to the format: all of it (the tree was formatted once, in one commit).
checked=("${all[@]}")

check=false
paths=()
for arg in "$@"; do
  case $arg in
    --check) check=true ;;
    -h | --help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "format.sh: unknown option '$arg'" >&2; exit 2 ;;
    *) paths+=("$arg") ;;
  esac
done
if [[ ${#paths[@]} -eq 0 ]]; then
  if $check; then paths=("${checked[@]}"); else paths=("${all[@]}"); fi
fi
for p in "${paths[@]}"; do [[ -e $p ]] || { echo "format.sh: no such file or directory: $p" >&2; exit 2; }; done

swift_files() { find "$@" -name '*.swift' -not -path '*/.build*/*' -print0 | sort -z; }

if ! $check; then
  swift_files "${paths[@]}" | xargs -0 -r swift format format --configuration .swift-format --in-place
  exit 0
fi

# Format a copy (one formatter run over all of it) and compare it with the tree.
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
while IFS= read -r -d '' file; do
  mkdir -p "$copy/$(dirname "$file")"
  cp "$file" "$copy/$file"
done < <(swift_files "${paths[@]}")
cp .swift-format "$copy/"
(cd "$copy" && swift_files "${paths[@]}" | xargs -0 -r swift format format --configuration .swift-format --in-place)
status=0
while IFS= read -r -d '' file; do
  if ! diff -u --label "$file" --label "$file (formatted)" "$file" "$copy/$file"; then status=1; fi
done < <(swift_files "${paths[@]}")
if [[ $status -ne 0 ]]; then
  echo "format.sh: the files above are not formatted; run scripts/format.sh and commit the result" >&2
fi
exit $status
