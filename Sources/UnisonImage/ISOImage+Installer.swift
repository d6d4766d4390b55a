import FoundationEssentials
import UnisonArchive
import UnisonCore
import UnisonDisk

/// The installer the ISO boots: the image's kernel and an initramfs of our own (the host's
/// static busybox, the storage drivers from the image's /lib/modules, and `/init`).
package enum ISOInstaller {
    package static let okMarker = "UNISONOS-INSTALL-OK"
    package static let failedMarker = "UNISONOS-INSTALL-FAILED"
    /// Where the ISO keeps the installer and the payload.
    static let isoDir = "unisonos"

    /// Drivers for the install medium (SATA/IDE CD, virtio, USB) and the target disk (virtio,
    /// SATA, NVMe), and ISO 9660; with their dependencies from modules.dep. Built-in drivers
    /// (absent from modules.dep) need nothing.
    package static let moduleNames = [
        "virtio_pci", "virtio_blk", "virtio_scsi", "ahci", "ata_piix", "sd_mod", "sr_mod", "nvme",
        "xhci_pci", "ehci_pci", "usb_storage", "uas", "crct10dif_generic", "isofs",
        // An answers medium (CIDATA: FAT or ISO 9660) and the installed root (ext4, whose
        // checksums need crc32c through the crypto API: a soft dependency modules.dep omits).
        "vfat", "nls_cp437", "nls_ascii", "nls_utf8", "crc32c_generic", "crc32c_intel", "ext4",
    ]

    /// The kernel the installer boots: the newest `boot/vmlinuz-*` of the image tree.
    static func kernel(in tree: FileTree) throws -> (release: String, content: FileTree.Content) {
        let kernels = RootfsBuilder.entries(of: tree, in: "boot", matching: "vmlinuz-*")
            .compactMap { path -> (String, FileTree.Content)? in
                guard let content = VMBootFiles.regularContent(tree, path) else { return nil }
                return (String(path.dropFirst("boot/vmlinuz-".count)), content)
            }
            .sorted { VMBootFiles.versionOrder($0.0, $1.0) }
        guard let newest = kernels.last else {
            throw DiskError.missingBootFile(what: "kernel for the installer", looked: ["/boot/vmlinuz-* in the image tree"])
        }
        return newest
    }

    struct Module: Equatable {
        var name: String
        var data: Data
    }

    /// The closure of `wanted` over the tree's `lib/modules/<release>/modules.dep`, in load
    /// order (every module after its dependencies). Compressed modules (.ko.xz, .ko.zst,
    /// .ko.gz) are stored decompressed: busybox insmod reads plain ELF.
    static func modules(in tree: FileTree, release: String, wanted: [String], workDir: URL) throws -> [Module] {
        guard let depPath = tree.resolvingSymlinks("lib/modules/\(release)/modules.dep", followFinal: true),
            let depContent = VMBootFiles.regularContent(tree, depPath)
        else {
            // No module directory: a kernel with its drivers built in. A directory without
            // modules.dep would give an installer that cannot see any disk.
            if let dir = tree.resolvingSymlinks("lib/modules/\(release)", followFinal: true), tree[dir]?.isDirectory == true {
                throw DiskError.missingBootFile(
                    what: "modules.dep for kernel \(release) (run depmod in the image)",
                    looked: ["/lib/modules/\(release)/modules.dep in the image tree"])
            }
            return []
        }
        let moduleRoot = PathText.parent(depPath)
        let text = String(decoding: try depContent.data(), as: UTF8.self)
        var paths: [String: String] = [:]
        var deps: [String: [String]] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let path = String(line[..<colon]).trimming(.whitespaces)
            let name = moduleName(path)
            paths[name] = path
            deps[name] = line[line.index(after: colon)...].split(separator: " ").map { moduleName(String($0)) }
        }
        var order: [String] = []
        var seen: Set<String> = []
        func visit(_ name: String) {
            guard paths[name] != nil, !seen.contains(name) else { return }
            seen.insert(name)
            for d in deps[name] ?? [] { visit(d) }
            order.append(name)
        }
        for name in wanted { visit(moduleName(name)) }
        var out: [Module] = []
        for name in order {
            let relative = paths[name]!
            let full = relative.hasPrefix("/") ? String(relative.dropFirst()) : moduleRoot + "/" + relative
            guard let content = VMBootFiles.regularContent(tree, full) else { continue }
            out.append(Module(name: name, data: try decompressed(content, path: full, workDir: workDir)))
        }
        return out
    }

    /// `kernel/drivers/nvme/host/nvme-core.ko.xz` -> `nvme_core`.
    static func moduleName(_ path: String) -> String {
        var base = PathText.lastComponent(path)
        for ext in [".xz", ".zst", ".gz"] where base.hasSuffix(ext) { base = String(base.dropLast(ext.count)) }
        if base.hasSuffix(".ko") { base = String(base.dropLast(3)) }
        return base.replacing("-", with: "_")
    }

    static func decompressed(_ content: FileTree.Content, path: String, workDir: URL) throws -> Data {
        let data = try content.data()
        guard let kind = ArchiveCompression.sniff(Array(data.prefix(8))), kind != .none else { return data }
        let tmp = workDir.appendingPathComponent("module-\(moduleName(path))")
        try data.write(to: tmp)
        defer { try? FileManager.default.removeItem(at: tmp) }
        let source = try ArchiveCompression.openDecompressing(tmp)
        let sink = DataSink()
        _ = try source.copy(to: sink)
        return sink.data
    }

    /// The initramfs as a tree: busybox, /init, its configuration and the modules.
    static func initramfsTree(
        busybox: URL, modules: [Module], installID: String, version: String, title: String,
        mtime: Int64
    ) throws -> FileTree {
        var t = FileTree(rootMtime: mtime)
        for dir in ["bin", "dev", "etc", "lib", "lib/modules", "media", "proc", "run", "sys", "tmp"] {
            try t.addDirectory(dir, mode: dir == "tmp" ? 0o1777 : 0o755, mtime: mtime)
        }
        // The kernel opens /dev/console for /init before devtmpfs is mounted.
        try t.insert(.init(path: "dev/console", kind: .characterDevice(major: 5, minor: 1), mode: 0o600, mtime: mtime))
        try t.insert(.init(path: "bin/busybox", kind: .regular(.bytes(try Data(contentsOf: busybox))), mode: 0o755, mtime: mtime))
        try t.addSymlink("bin/sh", target: "busybox", mtime: mtime)
        try t.addFile("init", initScript, mode: 0o755, mtime: mtime)
        try t.addFile(
            "etc/unisonos-installer.conf",
            """
            # Written by unisonctl image build iso: which medium this installer belongs to.
            UNISONOS_ID=\(installID)
            UNISONOS_VERSION=\(ShellQuote.quote(version))
            UNISONOS_TITLE=\(ShellQuote.quote(title))
            MARKER_OK=\(okMarker)
            MARKER_FAILED=\(failedMarker)

            """, mtime: mtime)
        try t.addFile("etc/unisonos-modules", modules.map { $0.name + "\n" }.joined(), mtime: mtime)
        for m in modules {
            try t.insert(.init(path: "lib/modules/\(m.name).ko", kind: .regular(.bytes(m.data)), mode: 0o644, mtime: mtime))
        }
        return t
    }

    /// The newc archive of `tree` as ONE gzip member: the kernel's unpacker fails on a member
    /// boundary inside a cpio entry, which a parallel (multi-member) gzip would put there.
    static func initramfs(_ tree: FileTree) throws -> Data {
        try GzipBuffer.compress(try NewcArchive.encode(tree), level: 9)
    }

    /// awk: the `disk:` value of the top-level `unison:` mapping (block or flow style), printed
    /// only when it is a whole `/dev/…` path ending the value; anything else prints nothing.
    static let answersDiskProgram = #"""
        /^[^ 	#]/ { inside = ($0 ~ /^unison:/) }
        inside && match($0, /(^|[ 	{,])disk:[ 	]*["']?\/dev\/[A-Za-z0-9\/_.-]+["']?[ 	]*([,}#]|$)/) {
            v = substr($0, RSTART, RLENGTH)
            sub(/^[ 	{,]*disk:[ 	]*["']?/, "", v)
            sub(/["']?[ 	]*[,}#]?$/, "", v)
            print v
            exit
        }
        """#

    /// /init: find the medium, pick the target disk, write, verify, power off. POSIX sh for
    /// busybox ash; `shellcheck -s sh` clean. Kernel command line: `unisonos.target=NAME`
    /// forces the target disk, `unisonos.poweroff-on-failure` powers off after a failure
    /// (default: stay up with the message on screen).
    ///
    /// Answers: a second medium labelled `CIDATA` (cloud-init NoCloud, FAT or ISO 9660) holding
    /// `unison-answers.yaml` or `user-data`. Its `unison.disk` names the target (after
    /// `unisonos.target=`; answers without one `answersDiskProgram` can read fail the install);
    /// the file is copied root-only to the installed root's `/etc/unison/answers.yaml`, which the
    /// installed system's first boot checks and applies. The installer never interprets the
    /// rest: a file it cannot carry fails the install.
    static let initScript = #"""
        #!/bin/sh
        # UnisonOS installer: writes the disk image on this medium to the first fixed disk.
        # Generated by unisonctl image build iso.
        PATH=/bin
        export PATH
        /bin/busybox --install -s /bin
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        exec </dev/console >/dev/console 2>&1
        # shellcheck disable=SC1091
        . /etc/unisonos-installer.conf

        say() { echo "unisonos-installer: $*"; }

        fail() {
            say "$MARKER_FAILED: $*"
            echo "$MARKER_FAILED: $*"
            sync
            if grep -qw unisonos.poweroff-on-failure /proc/cmdline; then
                sleep 5
                poweroff -f
            fi
            say "nothing more to do; the machine can be switched off"
            while :; do sleep 3600; done
        }

        mib() { echo $(($1 / 1048576)); }

        # The payload's extent map on fd 3 (unisonos-extents/1, see ISOPayloadExtents): each
        # "data OFFSET LENGTH" range is the next LENGTH bytes of the decompressed stream on
        # stdin, each "zero OFFSET LENGTH" range is zeroed; together they cover the disk.
        write_extents() {
            read -r magic total <&3 || { echo "the extent map is empty" >&2; return 1; }
            if [ "$magic" != unisonos-extents/1 ] || [ "$total" != "$PAYLOAD_BYTES" ]; then
                echo "the extent map starts '$magic $total', not 'unisonos-extents/1 $PAYLOAD_BYTES'" >&2
                return 1
            fi
            while read -r kind offset length <&3; do
                case $offset/$length in
                */|/*|*[!0-9/]*) echo "bad extent line: $kind $offset $length" >&2; return 1 ;;
                esac
                case $kind in
                data) dd of="/dev/$TARGET" bs=1048576 iflag=fullblock,count_bytes count="$length" \
                    oflag=seek_bytes seek="$offset" conv=notrunc 2>/tmp/extent.log ;;
                zero) dd if=/dev/zero of="/dev/$TARGET" bs=1048576 iflag=count_bytes count="$length" \
                    oflag=seek_bytes seek="$offset" conv=notrunc 2>/tmp/extent.log ;;
                *) echo "bad extent kind: $kind" >&2; false ;;
                esac || { cat /tmp/extent.log >&2; echo "extent $kind $offset $length failed" >&2; return 1; }
            done
            [ "$(head -c 1 | wc -c)" -eq 0 ] || { echo "the payload holds more data than its extent map" >&2; return 1; }
        }

        say "$UNISONOS_TITLE $UNISONOS_VERSION installer ($UNISONOS_ID)"
        while read -r module; do
            [ -n "$module" ] && insmod "/lib/modules/$module.ko" 2>/dev/null
        done </etc/unisonos-modules

        # The medium: a whole disk holding ISO 9660 with our install.conf (CD or USB stick).
        MEDIUM=
        tries=0
        while [ -z "$MEDIUM" ] && [ "$tries" -lt 60 ]; do
            for dev in /sys/block/*; do
                name=${dev##*/}
                case $name in loop*|ram*|zram*) continue ;; esac
                [ -b "/dev/$name" ] || continue
                [ "$(cat "$dev/size")" -gt 0 ] || continue
                if mount -t iso9660 -o ro "/dev/$name" /media 2>/dev/null; then
                    if grep -qx "UNISONOS_ID=$UNISONOS_ID" /media/unisonos/install.conf 2>/dev/null; then
                        MEDIUM=$name
                        break
                    fi
                    umount /media
                fi
            done
            [ -n "$MEDIUM" ] && break
            tries=$((tries + 1))
            sleep 1
        done
        [ -n "$MEDIUM" ] || fail "the install medium was not found (no disk with /unisonos/install.conf for $UNISONOS_ID)"
        say "install medium: /dev/$MEDIUM"
        # shellcheck disable=SC1091
        . /media/unisonos/install.conf

        # Answers: a medium labelled CIDATA (cloud-init NoCloud). Only carried, never run.
        ANSWERS_FROM=
        ANSWERS_DISK=
        CIDATA_DISK=
        CIDATA_DEV=$(findfs LABEL=CIDATA 2>/dev/null || findfs LABEL=cidata 2>/dev/null)
        if [ -n "$CIDATA_DEV" ]; then
            CIDATA_DISK=${CIDATA_DEV#/dev/}
            if [ -e "/sys/class/block/$CIDATA_DISK/partition" ]; then
                parent=$(readlink -f "/sys/class/block/$CIDATA_DISK/..")
                CIDATA_DISK=${parent##*/}
            fi
            mkdir -p /run/cidata
            mount -t vfat -o ro "$CIDATA_DEV" /run/cidata 2>/dev/null || mount -t iso9660 -o ro "$CIDATA_DEV" /run/cidata 2>/dev/null \
                || fail "the answers medium $CIDATA_DEV (label CIDATA) cannot be mounted as FAT or ISO 9660"
            for name in unison-answers.yaml user-data; do
                [ -f "/run/cidata/$name" ] || continue
                size=$(wc -c <"/run/cidata/$name")
                [ "$size" -le 262144 ] || fail "$CIDATA_DEV:/$name is $size bytes, too large for an answers file"
                cp "/run/cidata/$name" /tmp/answers.yaml || fail "cannot read $CIDATA_DEV:/$name"
                ANSWERS_FROM="LABEL=CIDATA:/$name"
                break
            done
            umount /run/cidata
            [ -n "$ANSWERS_FROM" ] || fail "the medium labelled CIDATA ($CIDATA_DEV) holds neither unison-answers.yaml nor user-data"
            say "answers: $ANSWERS_FROM (on /dev/$CIDATA_DISK)"
            # unison.disk, block or flow style: the one value the installer itself needs.
            ANSWERS_DISK=$(awk \#(ShellQuote.quote(answersDiskProgram)) /tmp/answers.yaml)
        fi

        # The target: unisonos.target=, else the answers' unison.disk, else the first fixed
        # virtio, SATA/SCSI or NVMe disk that is neither the medium nor the answers medium.
        TARGET=
        # shellcheck disable=SC2013
        for word in $(cat /proc/cmdline); do
            case $word in unisonos.target=*) TARGET=${word#unisonos.target=} ;; esac
        done
        if [ -z "$TARGET" ] && [ -n "$ANSWERS_FROM" ] && [ -z "$ANSWERS_DISK" ]; then
            fail "the answers in $ANSWERS_FROM name no unison.disk (a whole disk such as /dev/vda): an unattended install never guesses which disk to erase"
        fi
        if [ -z "$TARGET" ] && [ -n "$ANSWERS_DISK" ]; then
            case $ANSWERS_DISK in
            /dev/*/*) fail "unison.disk $ANSWERS_DISK: the installer has no /dev/disk/by-* links; name the whole disk, e.g. /dev/vda or /dev/nvme0n1" ;;
            esac
            TARGET=${ANSWERS_DISK#/dev/}
            [ -e "/sys/block/$TARGET" ] || sleep 5
            if [ ! -e "/sys/block/$TARGET" ]; then
                disks=
                for dev in /sys/block/*; do disks="$disks ${dev##*/}"; done
                fail "unison.disk $ANSWERS_DISK is not a disk on this machine (disks:$disks)"
            fi
        fi
        [ -z "$TARGET" ] || [ "$TARGET" != "$CIDATA_DISK" ] || fail "the target /dev/$TARGET is the answers medium"
        tries=0
        while [ -z "$TARGET" ] && [ "$tries" -lt 15 ]; do
            for dev in /sys/block/vd* /sys/block/sd* /sys/block/nvme*; do
                [ -e "$dev" ] || continue
                name=${dev##*/}
                [ "$name" = "$MEDIUM" ] && continue
                [ "$name" = "$CIDATA_DISK" ] && continue
                [ "$(cat "$dev/removable")" = 0 ] || continue
                [ "$(cat "$dev/size")" -gt 0 ] || continue
                TARGET=$name
                break
            done
            [ -n "$TARGET" ] && break
            tries=$((tries + 1))
            sleep 1
        done
        [ -n "$TARGET" ] || fail "no target disk found (looked for fixed virtio, SATA/SCSI and NVMe disks other than /dev/$MEDIUM)"
        [ "$TARGET" != "$MEDIUM" ] || fail "the target /dev/$TARGET is the install medium"
        [ -b "/dev/$TARGET" ] || fail "the target /dev/$TARGET is not a block device"
        SIZE=$(($(cat "/sys/block/$TARGET/size") * 512))
        if [ "$SIZE" -lt "$PAYLOAD_BYTES" ]; then
            fail "target disk /dev/$TARGET is too small: $SIZE bytes ($(mib "$SIZE") MiB), the image needs $PAYLOAD_BYTES bytes ($(mib "$PAYLOAD_BYTES") MiB)"
        fi
        say "target disk: /dev/$TARGET, $(mib "$SIZE") MiB"

        say "checking the payload on the medium (sha256sum -c SHA256SUMS)"
        (cd /media/unisonos && sha256sum -c -s SHA256SUMS) || fail "the payload on the install medium is damaged (sha256sum -c SHA256SUMS failed)"

        say "writing $PAYLOAD_NAME ($(mib "$PAYLOAD_BYTES") MiB, $(mib "$PAYLOAD_DATA_BYTES") MiB of data) to /dev/$TARGET"
        # shellcheck disable=SC3040
        set -o pipefail
        # shellcheck disable=SC2086
        (cd /media/unisonos && cat $PAYLOAD_PARTS) | gunzip -c | write_extents 3<"/media/unisonos/$PAYLOAD_MAP" 2>/tmp/dd.log \
            || fail "writing /dev/$TARGET failed: $(tail -n 2 /tmp/dd.log | tr '\n' ' ')"
        # shellcheck disable=SC3040
        set +o pipefail
        sync
        blockdev --flushbufs "/dev/$TARGET" 2>/dev/null
        echo 3 >/proc/sys/vm/drop_caches

        say "verifying /dev/$TARGET against $PAYLOAD_NAME.sha256"
        if [ $((PAYLOAD_BYTES % 1048576)) -eq 0 ]; then
            written=$(dd if="/dev/$TARGET" bs=1048576 count=$((PAYLOAD_BYTES / 1048576)) 2>/dev/null | sha256sum)
        else
            written=$(head -c "$PAYLOAD_BYTES" "/dev/$TARGET" | sha256sum)
        fi
        written=${written%% *}
        expected=$(cut -d ' ' -f 1 "/media/unisonos/$PAYLOAD_NAME.sha256")
        [ "$written" = "$expected" ] || fail "verification failed: /dev/$TARGET reads back as sha256 $written, expected $expected"
        umount /media
        sync

        # The answers go to the installed root (the ext4 partition holding etc/os-release),
        # root-only, replacing any the image carried; its first boot applies them.
        if [ -n "$ANSWERS_FROM" ]; then
            blockdev --rereadpt "/dev/$TARGET" 2>/dev/null
            mkdir -p /run/target
            ROOTPART=
            tries=0
            while [ -z "$ROOTPART" ] && [ "$tries" -lt 10 ]; do
                for part in "/sys/block/$TARGET/$TARGET"*; do
                    [ -e "$part/partition" ] || continue
                    p=${part##*/}
                    [ -b "/dev/$p" ] || continue
                    mount -t ext4 "/dev/$p" /run/target 2>/dev/null || continue
                    if [ -e /run/target/etc/os-release ] || [ -L /run/target/etc/os-release ]; then
                        ROOTPART=$p
                        break
                    fi
                    umount /run/target
                done
                [ -n "$ROOTPART" ] && break
                tries=$((tries + 1))
                sleep 1
            done
            [ -n "$ROOTPART" ] || fail "answers from $ANSWERS_FROM, but /dev/$TARGET has no ext4 root file system to carry them to"
            mkdir -p /run/target/etc/unison
            new=/run/target/etc/unison/answers.yaml.new
            if ! { (umask 077 && cp /tmp/answers.yaml "$new") && chown 0:0 "$new" && chmod 600 "$new" \
                && mv -f "$new" /run/target/etc/unison/answers.yaml; }; then
                fail "cannot write /etc/unison/answers.yaml on /dev/$ROOTPART"
            fi
            sync
            umount /run/target || fail "cannot unmount /dev/$ROOTPART after writing the answers"
            say "answers carried to /dev/$ROOTPART:/etc/unison/answers.yaml (root-only; the first boot applies them)"
        fi
        say "$MARKER_OK: $PAYLOAD_NAME written to /dev/$TARGET, sha256 $written"
        echo "$MARKER_OK"
        sleep 1
        poweroff -f

        """#
}
