import Foundation

/// A 64 KiB x86 firmware image that prints a message on the first serial port and halts.
/// Used to probe whether an accelerator (KVM) actually runs guest code, and to test the boot
/// watcher end to end in a fraction of a second.
///
///     offset 0x0000  F000:0000  mov dx, 0x3F8 ; mov si, 0x20
///                    loop: cs lodsb ; test al, al ; jz done ; out dx, al ; jmp loop
///                    done: hlt ; jmp done
///     offset 0x0020  the message, NUL-terminated
///     offset 0xFFF0  reset vector: jmp far F000:0000
public enum TinyBIOS {
    public static func image(printing message: String) -> Data {
        var bytes = [UInt8](repeating: 0, count: 64 << 10)
        let code: [UInt8] = [
            0xBA, 0xF8, 0x03,  // mov dx, 0x3f8
            0xBE, 0x20, 0x00,  // mov si, 0x0020
            0x2E, 0xAC,        // cs lodsb
            0x84, 0xC0,        // test al, al
            0x74, 0x03,        // jz +3 (hlt)
            0xEE,              // out dx, al
            0xEB, 0xF7,        // jmp -9 (lodsb)
            0xF4,              // hlt
            0xEB, 0xFD,        // jmp -3 (hlt)
        ]
        bytes.replaceSubrange(0..<code.count, with: code)
        let text = Array(message.utf8.prefix(0xFFF0 - 0x21))
        bytes.replaceSubrange(0x20..<(0x20 + text.count), with: text)
        bytes.replaceSubrange(0xFFF0..<0xFFF5, with: [0xEA, 0x00, 0x00, 0x00, 0xF0])  // jmp far F000:0000
        return Data(bytes)
    }
}
