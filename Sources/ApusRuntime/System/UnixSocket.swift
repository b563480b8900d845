import Glibc

/// A connected AF_UNIX stream socket to `path` (the console socket, the
/// seccomp agent); `what` names it in errors.
func connectUnixSocket(_ path: String, what: String) throws -> Int32 {
    let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    try check(fd, "connecting to the \(what)", "socket(AF_UNIX)")
    var addr = sockaddr_un()
    addr.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(path.utf8)
    guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
        close(fd)
        throw RuntimeError.other("\(what) path is too long: \(path)")
    }
    withUnsafeMutableBytes(of: &addr.sun_path) { raw in
        for (i, b) in bytes.enumerated() { raw[i] = b }
    }
    let rc = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    if rc < 0 {
        let err = errno
        close(fd)
        throw RuntimeError.syscall(step: "connecting to the \(what)", call: "connect(\(path))", errno: err)
    }
    return fd
}
