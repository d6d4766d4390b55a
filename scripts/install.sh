#!/bin/sh
# UnisonOS installer.
#
#   curl -fsSL https://github.com/project-unisonos/unison-platform/releases/latest/download/install.sh | sh
#   curl -fsSL …/install.sh | sh -s -- --version 0.5.0 --models default
#
# Detects the OS, the architecture and WSL; downloads unisonctl for the chosen version or
# channel from the release assets; checks its SHA-256 against SHA256SUMS-v<version>.txt (the
# name `unisonctl release attest` writes and unison-platform's release workflow publishes) before
# running anything; installs it (default /usr/local/bin) and runs `unisonctl install <mode>`,
# passing on every argument it does not know itself.
#
# Options:  --version V        a release version (v optional)
#           --channel C        stable (default), beta or nightly: the newest release of it
#           --mode M           native, docker or wsl (default: wsl inside WSL, else native)
#           --prefix DIR       where unisonctl goes (default /usr/local/bin)
#           --download-only    install unisonctl, do not run it
#           --sha256 HEX       the binary's SHA-256 from a source you trust (release notes,
#                              your own mirror); also UNISON_INSTALL_SHA256. Without it the only
#                              check is SHA256SUMS from the same server as the binary, which
#                              catches a broken download but not a replaced release: a warning
#                              says so. (Signature verification is planned.)
# Environment: UNISON_RELEASE_URL  base URL of the release assets, holding one directory per
#              release tag (v<version>/, and stable/, beta/, edge-main/ with a VERSION file);
#              default https://github.com/project-unisonos/unison-platform/releases/download
#              UNISON_ALLOWED_SIGNERS  ssh allowed_signers file the checksum file's signature
#              must verify against (default: the keys the release publishes)
#
# The whole script is the function below, called on the last line: a download cut short
# defines at most part of it and runs nothing.

unison_install() {
    set -eu
    base=${UNISON_RELEASE_URL:-https://github.com/project-unisonos/unison-platform/releases/download}
    base=${base%/}
    version=""
    channel="stable"
    mode=""
    prefix="/usr/local/bin"
    run_install=1
    pinned=${UNISON_INSTALL_SHA256:-}
    osrelease=${UNISON_OSRELEASE_FILE:-/proc/sys/kernel/osrelease}

    say() { printf 'unison-install: %s\n' "$*" >&2; }
    die() {
        say "error: $*"
        exit 1
    }

    # Arguments of our own; the rest goes to `unisonctl install`, in order.
    npass=0
    while [ $# -gt 0 ]; do
        case $1 in
        --version) [ $# -ge 2 ] || die "--version needs a value"; version=$2; shift 2 ;;
        --version=*) version=${1#*=}; shift ;;
        --channel) [ $# -ge 2 ] || die "--channel needs a value"; channel=$2; shift 2 ;;
        --channel=*) channel=${1#*=}; shift ;;
        --mode) [ $# -ge 2 ] || die "--mode needs a value"; mode=$2; shift 2 ;;
        --mode=*) mode=${1#*=}; shift ;;
        --prefix) [ $# -ge 2 ] || die "--prefix needs a value"; prefix=$2; shift 2 ;;
        --prefix=*) prefix=${1#*=}; shift ;;
        --download-only) run_install=0; shift ;;
        --sha256) [ $# -ge 2 ] || die "--sha256 needs a value"; pinned=$2; shift 2 ;;
        --sha256=*) pinned=${1#*=}; shift ;;
        -h | --help)
            sed -n '2,29p' "$0" 2>/dev/null | sed 's/^# \{0,1\}//' >&2 || true
            exit 0
            ;;
        *)
            npass=$((npass + 1))
            eval "pass_$npass=\$1"
            shift
            ;;
        esac
    done

    pinned=$(printf '%s' "$pinned" | tr 'A-F' 'a-f')
    case $pinned in
    '') ;;
    *[!0-9a-f]*) die "--sha256 '$pinned' is not a SHA-256 in hex" ;;
    *) [ ${#pinned} -eq 64 ] || die "--sha256 '$pinned' is not 64 hex digits" ;;
    esac
    case $channel in
    stable | beta | nightly) ;;
    *) die "unknown channel '$channel' (stable, beta or nightly)" ;;
    esac
    version=${version#v}
    case $version in
    '' | [0-9]*.[0-9]*.[0-9]*) ;;
    *) die "--version '$version' is not a version such as 1.2.3" ;;
    esac

    # Platform.
    os=$(uname -s)
    [ "$os" = Linux ] || die "this installer supports Linux (and WSL); this is $os"
    case $(uname -m) in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) die "unsupported architecture $(uname -m) (amd64 and arm64 are built)" ;;
    esac
    wsl=0
    if [ -n "${WSL_DISTRO_NAME:-}" ] || grep -qi microsoft "$osrelease" 2>/dev/null; then wsl=1; fi
    if [ -z "$mode" ]; then
        if [ "$wsl" = 1 ]; then mode=wsl; else mode=native; fi
    fi
    case $mode in
    native | docker | wsl) ;;
    *) die "unknown mode '$mode' (native, docker or wsl)" ;;
    esac

    if command -v curl >/dev/null 2>&1; then
        fetch() { curl -fsSL --retry 3 -o "$2" "$1"; }
    elif command -v wget >/dev/null 2>&1; then
        fetch() { wget -q -O "$2" "$1"; }
    else
        die "neither curl nor wget is installed"
    fi
    if command -v sha256sum >/dev/null 2>&1; then
        checksum() { sha256sum "$1" | cut -d' ' -f1; }
    elif command -v shasum >/dev/null 2>&1; then
        checksum() { shasum -a 256 "$1" | cut -d' ' -f1; }
    else
        die "sha256sum is not installed: cannot verify the download"
    fi

    tmp=$(mktemp -d "${TMPDIR:-/tmp}/unison-install.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT INT TERM

    # Which release: a version's tag, or the channel's rolling tag and the VERSION it holds.
    if [ -n "$version" ]; then
        tag="v$version"
    else
        case $channel in
        stable) tag=stable ;;
        beta) tag=beta ;;
        nightly) tag=edge-main ;;
        esac
        fetch "$base/$tag/VERSION" "$tmp/VERSION" || die "cannot download $base/$tag/VERSION"
        version=$(tr -d ' \r\n' <"$tmp/VERSION")
        version=${version#v}
        case $version in
        [0-9]*.[0-9]*.[0-9]*) ;;
        *) die "$base/$tag/VERSION does not hold a version" ;;
        esac
    fi
    say "UnisonOS $version ($channel channel) for linux/$arch, mode $mode"

    asset="unisonctl-linux-$arch"
    # The release's names, as `unisonctl release attest` and the platform's release workflow
    # write them: the checksum file carries the tag (v<version>), the spec is unison.yaml.
    sums="SHA256SUMS-v$version.txt"
    spec="unison.yaml"
    fetch "$base/$tag/$sums" "$tmp/$sums" || die "cannot download $base/$tag/$sums"
    fetch "$base/$tag/$asset" "$tmp/$asset" || die "cannot download $base/$tag/$asset"

    # The checksum file's SSH signature (docs/verify.md), when the release has one and
    # ssh-keygen is here. Trusted keys: the file $UNISON_ALLOWED_SIGNERS, else the release's own.
    if fetch "$base/$tag/$sums.sig" "$tmp/$sums.sig" 2>/dev/null; then
        if command -v ssh-keygen >/dev/null 2>&1; then
            signers=${UNISON_ALLOWED_SIGNERS:-}
            if [ -z "$signers" ]; then
                signers="$tmp/allowed-signers"
                fetch "$base/$tag/unisonos-allowed-signers-v$version.txt" "$signers" ||
                    die "$sums is signed but the release has no unisonos-allowed-signers-v$version.txt"
                say "checking $sums against the keys this release publishes (set UNISON_ALLOWED_SIGNERS to a file of keys you trust)"
            fi
            ssh-keygen -Y verify -f "$signers" -I release@unisonos -n file -s "$tmp/$sums.sig" <"$tmp/$sums" >/dev/null 2>&1 ||
                die "the SSH signature of $sums does not verify: refusing to install"
            say "verified the SSH signature of $sums"
        else
            say "ssh-keygen is not installed: the signature of $sums was not checked"
        fi
    else
        say "this release has no signature for $sums: checking checksums only"
    fi

    # Verify before anything runs: exactly one line for the asset, and the same digest.
    expected_for() {
        awk -v name="$1" '($2 == name || $2 == "*" name) && $1 ~ /^[0-9a-f]+$/ && length($1) == 64 { print $1 }' "$tmp/$sums"
    }
    expected=$(expected_for "$asset")
    [ -n "$expected" ] || die "$sums lists no checksum for $asset: refusing to install it"
    [ "$(printf '%s\n' "$expected" | wc -l)" -eq 1 ] || die "$sums lists $asset more than once: refusing to install it"
    actual=$(checksum "$tmp/$asset")
    if [ "$actual" != "$expected" ]; then
        die "checksum mismatch for $asset: expected $expected, got $actual; the download was not run"
    fi
    if [ -n "$pinned" ]; then
        [ "$actual" = "$pinned" ] || die "$asset has sha256 $actual, not the pinned $pinned: refusing to install it"
        say "verified $asset sha256:$actual (pinned)"
    else
        say "verified $asset sha256:$actual"
        say "warning: $sums comes from the same server as $asset; pin the binary with --sha256 HEX from a source you trust"
    fi

    # The platform spec of the release, when it ships one, verified the same way.
    spec_expected=$(expected_for "$spec")
    if [ -n "$spec_expected" ]; then
        fetch "$base/$tag/$spec" "$tmp/$spec" || die "cannot download $base/$tag/$spec"
        [ "$(checksum "$tmp/$spec")" = "$spec_expected" ] || die "checksum mismatch for $spec: refusing to use it"
    fi

    mkdir -p "$prefix" 2>/dev/null || true
    [ -w "$prefix" ] || die "cannot write to $prefix: run as root (curl … | sudo sh) or pass --prefix DIR"
    cp "$tmp/$asset" "$prefix/.unisonctl.new"
    chmod 0755 "$prefix/.unisonctl.new"
    mv -f "$prefix/.unisonctl.new" "$prefix/unisonctl"
    say "installed $prefix/unisonctl"

    [ "$run_install" = 1 ] || { say "--download-only: not running unisonctl install"; return 0; }

    # Rebuild the pass-through arguments in order, then hand over.
    set -- install "$mode" --channel "$channel"
    [ "$channel" = nightly ] || set -- "$@" --version "$version"
    # The install copies the spec into its prefix, where later commands find it.
    [ -z "$spec_expected" ] || set -- "$@" --spec "$tmp/$spec"
    i=1
    while [ "$i" -le "$npass" ]; do
        eval "set -- \"\$@\" \"\$pass_$i\""
        i=$((i + 1))
    done
    say "running: $prefix/unisonctl $*"
    "$prefix/unisonctl" "$@"
}

unison_install "$@"
