import FoundationEssentials

/// A 64 KiB x86 firmware image that prints a message on the first serial port and halts.
/// Used to probe whether an accelerator (KVM) actually runs guest code, and to test the boot
/// watcher end to end in a fraction of a second. Nested KVM here runs plain real-mode code but
/// fails on the x87 initialization OVMF does first ("KVM internal error. Suberror: 1"), so the
/// probe runs FPU instructions before it prints.
///
///     offset 0x0000  F000:0000  [fwait ; fninit ; fld1 ; fstp st0]  (with `exerciseFPU`)
///                    mov dx, 0x3F8 ; mov si, 0x20
///                    loop: cs lodsb ; test al, al ; jz done ; out dx, al ; jmp loop
///                    done: hlt ; jmp done
///     offset 0x0020  the message, NUL-terminated
///     offset 0xFFF0  reset vector: jmp far F000:0000
package enum TinyBIOS {
    package static func image(printing message: String, exerciseFPU: Bool = false) -> Data {
        var bytes = [UInt8](repeating: 0, count: 64 << 10)
        let fpu: [UInt8] = exerciseFPU ? [0x9B, 0xDB, 0xE3, 0xD9, 0xE8, 0xDD, 0xD8] : []  // fwait; fninit; fld1; fstp st0
        let code: [UInt8] =
            fpu + [
                0xBA, 0xF8, 0x03,  // mov dx, 0x3f8
                0xBE, 0x20, 0x00,  // mov si, 0x0020
                0x2E, 0xAC,  // cs lodsb
                0x84, 0xC0,  // test al, al
                0x74, 0x03,  // jz +3 (hlt)
                0xEE,  // out dx, al
                0xEB, 0xF7,  // jmp -9 (lodsb)
                0xF4,  // hlt
                0xEB, 0xFD,  // jmp -3 (hlt)
            ]
        bytes.replaceSubrange(0..<code.count, with: code)
        let text = Array(message.utf8.prefix(0xFFF0 - 0x21))
        bytes.replaceSubrange(0x20..<(0x20 + text.count), with: text)
        bytes.replaceSubrange(0xFFF0..<0xFFF5, with: [0xEA, 0x00, 0x00, 0x00, 0xF0])  // jmp far F000:0000
        return Data(bytes)
    }
}
