import Foundation
import UnisonTestSupport

@testable import UnisonAttest

enum SSHKeygen {
    /// `ssh-keygen -Y verify` of `file` with its `.sig` against an allowed_signers file.
    static func verify(file: URL, signature: URL, allowedSigners: URL, principal: String = AllowedSigners.principal)
        throws -> (status: Int32, stdout: String, stderr: String)
    {
        try TestProcess.runStatus([
            "sh", "-c", "ssh-keygen -Y verify -f \"$1\" -I \"$2\" -n file -s \"$3\" < \"$4\"", "sh",
            allowedSigners.path, principal, signature.path, file.path,
        ])
    }
}
