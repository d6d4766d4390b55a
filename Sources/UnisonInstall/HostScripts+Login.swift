import FoundationEssentials
import UnisonCore

/// A way in on a machine nobody has configured: the words shown when no person's account exists,
/// and the first-boot shell fallback's share of the answers work. There is never a default
/// password: the machine says how to provide answers, or how to make a user from its console.
extension HostScripts {
    /// Before the console login prompt while no user exists (agetty shows `/etc/issue.d/*.issue`).
    package static let loginIssuePath = "/etc/issue.d/unison-answers.issue"

    /// How to provide answers; printed on the console and put before the login prompt.
    package static let answersInstructions = """
        UnisonOS: no user exists yet, and there is no default password.
        Provide answers (a #cloud-config file; see docs/pilot-guide.md) in one of these ways, then reboot:
          - attach a second disk or ISO labelled CIDATA holding 'user-data' (cloud-init NoCloud),
            e.g. cloud-localds seed.img user-data, or: mkfs.vfat -n CIDATA seed.img; mcopy -i seed.img user-data ::
          - boot with unison.answers=/path/to/answers.yaml on the kernel command line
          - in a cloud or hypervisor, pass the file as cloud-init user-data
        Check the file first with: unisonctl answers check FILE
        """

    /// When this system's unisonctl cannot run, answers cannot be applied at all: the way in is
    /// the console (a person with the machine in front of them), without any preset password.
    package static let consoleRecovery = """
        UnisonOS: no user exists yet, and there is no default password.
        This system's unisonctl cannot run, so answers (CIDATA, unison.answers=, /etc/unison/answers.yaml)
        cannot be applied here. To make a user from this console: restart, edit the boot entry
        (systemd-boot: e, isolinux: Tab), add init=/bin/sh to the kernel command line, boot, then run
          mount -o remount,rw / && useradd -m -s /bin/bash -G sudo NAME && passwd NAME && sync && reboot -f
        and report the failure (unisonctl --version on this machine; see docs/pilot-guide.md).
        """

    /// The fallback's answers step, a shell function `login_fallback` for `unison-firstboot`
    /// (which defines ROOT and UNISONCTL). A person's account (uid 1000-59999) or WSL (whose
    /// first launch asks for one) means nothing to do. Otherwise a unisonctl that runs (the
    /// fallback also runs when only the spec copy is missing) applies the answers with `answers
    /// apply`, which shows the instructions when there are none; one that cannot run leaves the
    /// console recovery on the console and before the login prompt. The shell never parses the
    /// answers (hostile input) and never sets a password.
    static func loginFallbackFunction() -> String {
        #"""
        login_fallback() {
            [ -e "$ROOT/etc/wsl-distribution.conf" ] && return 0
            if awk -F: '$3 >= 1000 && $3 < 60000 { found = 1 } END { exit !found }' "$ROOT/etc/passwd" 2>/dev/null; then
                return 0
            fi
            if [ -x "$UNISONCTL" ] && "$UNISONCTL" --version >/dev/null 2>&1; then
                # It finds the answers, or shows how to provide them, as `unisonctl firstboot` does.
                "$UNISONCTL" answers apply --root "${ROOT:-/}" 2>&1 || echo "answers: not applied (see above)"
                return 0
            fi
            for f in /etc/unison/answers.yaml /var/lib/cloud/seed/nocloud/user-data /var/lib/cloud/seed/nocloud-net/user-data; do
                if [ -s "$ROOT$f" ]; then
                    echo "answers: $f found but NOT applied: this system's unisonctl cannot run"
                    break
                fi
            done
            text=\#(ShellQuote.quote(consoleRecovery))
            mkdir -p "$ROOT/etc/issue.d" && printf '%s\n\n' "$text" >"$ROOT"\#(ShellQuote.quote(loginIssuePath))
            printf '%s\n' "$text"
        }
        """#
    }
}
