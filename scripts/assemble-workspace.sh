#!/usr/bin/env bash
# assemble-workspace.sh DIR [MIRRORS]: lays out a UnisonOS workspace from local mirrors of the
# project-unisonOS repositories, without the network, for `unisonctl spec drift DIR` and
# `unisonctl workspace check DIR` by hand.
#
# MIRRORS (default /work/.mirror) holds bare repositories as MIRRORS/project-unisonOS+<repo>/repo.
# DIR becomes a clone of unison-workspace; each of its submodules is filled from its mirror at
# the commit the workspace records (the mirror's default branch when that commit is missing),
# and every other mirrored repo is cloned beside the submodules, as developers clone
# unison-platform next to them. Nothing in DIR may exist beforehand.
set -euo pipefail

usage() { echo "usage: $0 DIR [MIRRORS]" >&2; exit 2; }
if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
dir=$1
mirrors=${2:-/work/.mirror}
prefix=project-unisonOS+

mirror() { printf '%s/%s%s/repo' "$mirrors" "$prefix" "$1"; }

[ -d "$(mirror unison-workspace)" ] || { echo "no unison-workspace mirror under $mirrors" >&2; exit 2; }
if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
  echo "$dir exists and is not empty" >&2
  exit 2
fi

export GIT_TERMINAL_PROMPT=0 GIT_CONFIG_NOSYSTEM=1
git() { command git -c protocol.file.allow=always -c advice.detachedHead=false "$@"; }

git clone -q "$(mirror unison-workspace)" "$dir"
declare -A placed=([unison-workspace]=1)
missing=()
fallback=()

# Submodules: name and path from .gitmodules, commit from the workspace's tree.
while read -r key path; do
  name=${key#submodule.}
  name=${name%.path}
  repo=$(basename "$path")
  src=$(mirror "$repo")
  if [ ! -d "$src" ]; then
    missing+=("$path")
    continue
  fi
  git -C "$dir" config "submodule.$name.url" "$src"
  if ! git -C "$dir" submodule update -q --init -- "$path" 2>/dev/null; then
    # The recorded commit is not in the mirror: take the mirror's default branch instead.
    rm -rf "${dir:?}/$path" "$dir/.git/modules/$name"
    git clone -q "$src" "$dir/$path"
    fallback+=("$path")
  fi
  placed[$repo]=1
done < <(git -C "$dir" config -f .gitmodules --get-regexp '^submodule\..*\.path$')

# Every other mirrored repo beside the submodules.
for src in "$mirrors"/"$prefix"*/repo; do
  [ -d "$src" ] || continue
  repo=${src%/repo}
  repo=${repo##*/"$prefix"}
  [ -n "${placed[$repo]:-}" ] && continue
  git clone -q "$src" "$dir/$repo"
  placed[$repo]=1
done

echo "workspace: $dir (${#placed[@]} repos)"
[ ${#missing[@]} -eq 0 ] || echo "submodules without a mirror (left empty): ${missing[*]}"
[ ${#fallback[@]} -eq 0 ] || echo "submodules at their mirror's default branch (recorded commit missing): ${fallback[*]}"
