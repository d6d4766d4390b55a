#!/usr/bin/env bash
# Runs unisonctl's tests. Tests start the real components they need (docker-registry, QEMU,
# HTTP servers) on 127.0.0.1 themselves.
#   scripts/test.sh                  every tier (what CI runs)
#   scripts/test.sh --tier unit      in memory, fakes and unisonctl itself: seconds
#   scripts/test.sh --tier interop   output read back by other tools, real servers on 127.0.0.1
#   scripts/test.sh --tier boot      QEMU boots: minutes
# Each suite names its tier with a tag on its @Suite line (`.tags(.unit)`); this toolchain's
# `swift test` cannot filter by tag, so the tier becomes one --filter per suite read from those
# lines (the tags themselves are declared once, in Tests/UnisonTestSupport/TestTiers.swift). A
# suite with no tier fails every run, named. Before anything is built, the files the formatter
# owns must be formatted (scripts/format.sh --check). Other arguments go to `swift test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tier=
args=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --tier) tier=${2:?--tier needs unit, interop or boot}; shift 2 ;;
    --tier=*) tier=${1#--tier=}; shift ;;
    *) args+=("$1"); shift ;;
  esac
done
case $tier in '' | unit | interop | boot) ;; *) echo "test.sh: unknown tier '$tier' (unit, interop, boot)" >&2; exit 2 ;; esac

# "Module.Type tier" for every @Suite-annotated type under Tests/ (tier "-" when it has none).
suites() {
  awk '
    FNR == 1 { n = split(FILENAME, p, "/"); module = p[2]; pending = "" }
    /^[[:space:]]*@Suite/ {
      pending = "-"
      if (match($0, /\.tags\([^)]*\)/)) {
        t = substr($0, RSTART, RLENGTH)
        if (t ~ /\.unit[,)]/) pending = "unit"; else if (t ~ /\.interop[,)]/) pending = "interop"; else if (t ~ /\.boot[,)]/) pending = "boot"
      }
    }
    pending != "" && match($0, /(struct|class|enum|actor) [A-Za-z_][A-Za-z0-9_]*/) {
      n = split(substr($0, RSTART, RLENGTH), w, " "); print module "." w[n], pending; pending = ""
    }
  ' Tests/*/*.swift
}

scripts/format.sh --check

swift build --build-tests

# Every test swift test knows must belong to a tagged suite.
listed=$(swift test list --skip-build | sed -n 's#^\([A-Za-z0-9_]*\.[A-Za-z0-9_]*\)/.*#\1#p' | sort -u)
tagged=$(suites | awk '$2 != "-" { print $1 }' | sort -u)
untiered=$(comm -23 <(printf '%s\n' "$listed") <(printf '%s\n' "$tagged"))
if [[ -n $untiered ]]; then
  echo "test.sh: these suites name no tier (add .tags(.unit|.interop|.boot) to their @Suite line):" >&2
  while read -r suite; do echo "  $suite" >&2; done <<<"$untiered"
  exit 1
fi

filters=()
if [[ -n $tier ]]; then
  while read -r suite; do filters+=(--filter "^${suite//./\\.}/"); done < <(suites | awk -v t="$tier" '$2 == t { print $1 }')
  [[ ${#filters[@]} -gt 0 ]] || { echo "test.sh: no suite is tagged .$tier" >&2; exit 1; }
fi
swift test --skip-build "${filters[@]}" "${args[@]}"
