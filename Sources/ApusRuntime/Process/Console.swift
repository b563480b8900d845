import ApusSpec
import CApusShim
import Glibc

/// process.terminal: the init opens a pty inside the container, hands the
/// master to whoever listens on --console-socket (SCM_RIGHTS), and makes
/// the slave its controlling terminal and stdio.
enum Console {
    static func setUp(socketFD: Int32, size: ConsoleSize?) throws {
        let master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        try check(master, "setting up the console", "open(/dev/ptmx)")
        defer { close(master) }
        var name = [CChar](repeating: 0, count: 128)
        try check(apus_pty_unlock(master, &name, name.count), "setting up the console", "unlockpt/ptsname")
        let slavePath = String(cString: name)
        let slave = open(slavePath, O_RDWR | O_NOCTTY)
        try check(slave, "setting up the console", "open(\(slavePath))")
        if let size { _ = apus_set_winsize(slave, UInt16(clamping: size.height), UInt16(clamping: size.width)) }
        try check(apus_send_fd(socketFD, master), "sending the console to --console-socket", "sendmsg(SCM_RIGHTS)")
        close(socketFD)
        try check(apus_ioctl_int(slave, UInt(TIOCSCTTY), 0), "setting up the console", "ioctl(TIOCSCTTY)")
        for target: Int32 in 0...2 {
            try check(dup2(slave, target), "setting up the console", "dup2(\(slavePath), \(target))")
        }
        if slave > 2 { close(slave) }
    }

    /// The internal console socket of a foreground `run`: (apus's end, the init's end).
    static func socketPair() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        try check(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds),
                  "creating the console socket", "socketpair(AF_UNIX)")
        return (fds[0], fds[1])
    }

    /// Connects to the --console-socket path before the fork: after
    /// pivot_root the host path is out of reach.
    static func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try check(fd, "connecting to the console socket", "socket(AF_UNIX)")
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            close(fd)
            throw RuntimeError.other("console socket path is too long: \(path)")
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
            throw RuntimeError.syscall(step: "connecting to the console socket", call: "connect(\(path))", errno: err)
        }
        return fd
    }
}

/// A new session keyring per container, so containers do not share the
/// host's keys (runc does the same unless --no-new-keyring).
enum Keyring {
    static func joinNew(name: String) throws {
        if apus_join_session_keyring(name) < 0 {
            // Kernels without keyrings (or seccomp-filtered keyctl) simply lack the feature.
            if errno == ENOSYS { return }
            throw RuntimeError.syscall(step: "creating a session keyring", call: "keyctl(JOIN_SESSION_KEYRING, \(name))", errno: errno)
        }
    }
}
