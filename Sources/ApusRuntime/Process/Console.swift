import ApusSpec
import CApusShim
import Glibc

/// process.terminal: the init opens a pty inside the container, hands the
/// master to whoever listens on --console-socket (SCM_RIGHTS), and makes
/// the slave its controlling terminal and stdio.
enum Console {
    static let TIOCGPTPEER: UInt = 0x5441
    static let ptmxDevice = makedev(5, 2)

    /// Run inside the container's root. With `bindConsole` (the init, in
    /// its own mount namespace) the pty also appears as /dev/console, as in
    /// runc. For apus's own relay (`run`/`exec -t` without --console-socket)
    /// ONLCR is cleared, so "hi\n" arrives as "hi\n", as runc's relay does;
    /// done here, before the process can write, rather than racing it.
    static func setUp(socketFD: Int32, size: ConsoleSize?, bindConsole: Bool, forRelay: Bool) throws {
        let step = "setting up the console"
        let master = try openPTMX()
        defer { close(master) }
        var name = [CChar](repeating: 0, count: 128)
        try check(apus_pty_unlock(master, &name, name.count), step, "unlockpt(/dev/ptmx)")
        // The peer by fd, not by a /dev/pts/N path the rootfs could redirect.
        let slave = apus_ioctl_int(master, TIOCGPTPEER, UInt(O_RDWR | O_NOCTTY | O_CLOEXEC))
        try check(slave, step, "ioctl(TIOCGPTPEER)")
        defer { if slave > 2 { close(slave) } }
        if forRelay { try check(apus_clear_onlcr(slave), step, "tcsetattr(-ONLCR)") }
        if let size { _ = apus_set_winsize(slave, UInt16(clamping: size.height), UInt16(clamping: size.width)) }
        if bindConsole { try bindDevConsole(slave) }
        try check(apus_send_fd(socketFD, master), "sending the console to --console-socket", "sendmsg(SCM_RIGHTS)")
        close(socketFD)
        try check(apus_ioctl_int(slave, UInt(TIOCSCTTY), 0), step, "ioctl(TIOCSCTTY)")
        for target: Int32 in 0...2 {
            try check(dup2(slave, target), step, "dup2(pty, \(target))")
        }
    }

    /// The container's /dev/ptmx, resolved inside its root and checked to be
    /// the pty multiplexer (character 5:2) before it is trusted.
    private static func openPTMX() throws -> Int32 {
        let root = open("/", APUS_O_PATH | O_DIRECTORY | O_CLOEXEC)
        try check(root, "setting up the console", "open(/)")
        defer { close(root) }
        let fd = apus_openat2(root, "/dev/ptmx", UInt64(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK), 0,
                              SafePath.resolveInRoot | SafePath.resolveNoMagicLinks)
        try check(fd, "setting up the console", "openat2(/dev/ptmx, RESOLVE_IN_ROOT)")
        var st = stat()
        if fstat(fd, &st) < 0 || (st.st_mode & S_IFMT) != S_IFCHR || st.st_rdev != ptmxDevice {
            close(fd)
            throw RuntimeError.unsafe(step: "setting up the console", reason: "/dev/ptmx is not the pty multiplexer (character 5:2)")
        }
        _ = fcntl(fd, F_SETFL, O_RDWR)
        return fd
    }

    /// Binds the pty over /dev/console by fd. The rootfs's /dev/console is
    /// never followed (CVE-2025-52565): a symlink or odd node there is
    /// refused, a missing one is created as an empty file.
    private static func bindDevConsole(_ slave: Int32) throws {
        let step = "mounting the console on /dev/console"
        let safe = try SafePath(rootfs: "/")
        defer { safe.close() }
        let devPath = try safe.ensure("/dev", directory: true)
        defer { close(devPath) }
        let dev = openat(devPath, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try check(dev, step, "open(/dev)")
        defer { close(dev) }
        let created = openat(dev, "console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if created >= 0 { close(created) } else if errno != EEXIST {
            throw RuntimeError.syscall(step: step, call: "openat(/dev/console, O_CREAT)", errno: errno)
        }
        let target = openat(dev, "console", APUS_O_PATH | O_NOFOLLOW | O_CLOEXEC)
        try check(target, step, "openat(/dev/console, O_NOFOLLOW)")
        defer { close(target) }
        var st = stat()
        try check(fstat(target, &st), step, "fstat(/dev/console)")
        let kind = st.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFCHR else {
            throw RuntimeError.unsafe(step: step, reason: kind == S_IFLNK ? "/dev/console in the rootfs is a symlink"
                                                                       : "/dev/console in the rootfs is not a file or device")
        }
        let tree = apus_open_tree(slave, "", MountFD.clone | MountFD.emptyPath | UInt32(O_CLOEXEC))
        try check(tree, step, "open_tree(pty, OPEN_TREE_CLONE)")
        defer { close(tree) }
        try check(apus_move_mount_fd(tree, target), step, "move_mount(pty, /dev/console)")
    }

    /// The internal console socket of a foreground `run`: (apus's end, the init's end).
    static func socketPair() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        try check(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds),
                  "creating the console socket", "socketpair(AF_UNIX)")
        return (fds[0], fds[1])
    }

    /// runc's rules for --console-socket: a terminal container needs one
    /// unless apus relays the terminal itself (`relayed`: in the
    /// foreground); a container without a terminal must not get one.
    static func checkSocketUse(terminal: Bool, socket: String?, relayed: Bool) throws {
        if terminal && socket == nil && !relayed {
            throw RuntimeError.usage("cannot allocate tty if apus will detach without setting console socket")
        }
        if !terminal && socket != nil {
            throw RuntimeError.usage("cannot use console socket if apus will not detach or allocate tty")
        }
    }

    /// Connects to the --console-socket path before the fork: after
    /// pivot_root the host path is out of reach.
    static func connect(_ path: String) throws -> Int32 {
        try connectUnixSocket(path, what: "console socket")
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
