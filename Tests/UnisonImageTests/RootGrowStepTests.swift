import Foundation
import Testing
import UnisonInstall
import UnisonSpec
import UnisonTestSupport

@testable import UnisonImage

@Suite("the root grow drop-in on the platform unit", .tags(.unit))
struct RootGrowStepTests {
    @Test("an ignorable ExecStartPre running firstboot --grow-root, ordered before the image loader's drop-in")
    func dropIn() throws {
        let spec = try SpecLoader.load(text: try StackRegistry.spec(), file: "stack.yaml")
        let layout = InstallLayout(spec: spec)
        let (path, text) = RootGrowStep.dropIn(layout: layout)
        #expect(path == "etc/systemd/system/unison-platform.service.d/05-unison-grow-root.conf")
        // systemd reads a unit's drop-ins in file-name order and appends their ExecStartPre lines.
        #expect(URL(fileURLWithPath: path).lastPathComponent < "10-unison-images.conf")
        let exec = text.split(separator: "\n").filter { $0.hasPrefix("ExecStartPre=") }
        #expect(exec == ["ExecStartPre=-/usr/local/bin/unisonctl firstboot --grow-root --spec \(layout.specCopy)"])
        #expect(text.contains("[Service]\n"))
    }
}
