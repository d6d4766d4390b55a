import Foundation
import UnisonArchive

/// A first-boot systemd unit that prints the spec's `qa.boot.marker` on the console once
/// `multi-user.target` is reached, enabled in the tree. `qa boot` watches the serial console
/// for that line. Stands in until the installer's `InstallPlan` supplies the real first-boot
/// unit (which must print the same marker).
public struct FirstBootMarkerOverlay: RootfsOverlay {
    public var unitName: String
    public var marker: String
    public var mtime: Int64

    public init(unitName: String, marker: String, mtime: Int64) {
        self.unitName = unitName
        self.marker = marker
        self.mtime = mtime
    }

    /// The unit: ordered after multi-user.target, once per installation (a stamp file under
    /// its StateDirectory), output to the journal and the console.
    public var unitText: String {
        """
        [Unit]
        Description=UnisonOS first boot
        After=multi-user.target
        ConditionPathExists=!/var/lib/unisonos/first-boot.done

        [Service]
        Type=oneshot
        RemainAfterExit=yes
        StateDirectory=unisonos
        StandardOutput=journal+console
        ExecStart=/bin/echo \(marker)
        ExecStartPost=/usr/bin/touch /var/lib/unisonos/first-boot.done

        [Install]
        WantedBy=multi-user.target

        """
    }

    public func apply(to tree: inout FileTree) throws {
        guard unitName.hasSuffix(".service"), !unitName.contains("/"),
              !marker.isEmpty, marker.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && $0 != "%" && $0 != "\\" })
        else {
            throw VMError.badFirstBoot(unit: unitName, marker: marker)
        }
        try tree.addFile("usr/lib/systemd/system/\(unitName)", unitText, mtime: mtime)
        // `systemctl enable` does exactly this for WantedBy=multi-user.target.
        try tree.addSymlink("etc/systemd/system/multi-user.target.wants/\(unitName)",
                            target: "/usr/lib/systemd/system/\(unitName)", mtime: mtime)
    }
}
