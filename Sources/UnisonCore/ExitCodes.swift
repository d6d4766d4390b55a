/// The exit codes every command uses.
package enum ExitStatus: Int32, Sendable {
    /// Everything asked for was done and every check passed.
    case ok = 0
    /// A check ran and failed (unhealthy service, finding of error level, corrupt blob).
    case checkFailed = 1
    /// Bad input or usage: the spec, a flag, a file that cannot be read; nothing was done.
    case badInput = 2
}

/// An error that knows which exit status it deserves. Errors that do not conform exit 1.
package protocol ExitCoded: Error {
    var exitStatus: ExitStatus { get }
}
