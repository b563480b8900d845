import ApusSpec
import CApusShim
import Glibc

/// The last steps of the container init before exec: identity, limits,
/// privileges, and finding the program to run.
enum ProcessSetup {
    static let PR_SET_NO_NEW_PRIVS: Int32 = 38

    /// Everything between a ready filesystem and exec, in the order the
    /// kernel needs, for the container's init and for `apus exec` alike.
    /// Everything that opens files or needs a newer syscall (openat2,
    /// close_range, sched_setattr, set_mempolicy) comes before the seccomp
    /// filter can be loaded: a profile older than those syscalls must not
    /// break the runtime's own setup. Scheduling and the other attributes
    /// need privileges, so they come before the capability drop.
    /// Returns the seccomp filter (nil if none): loaded already, or (with
    /// no_new_privs) for the caller to load as the last step of its setup;
    /// either way its notify listener is still to be handed over.
    /// `handOver` gets a filter loaded here at once: between the load and
    /// the agent holding its notify listener, a notified syscall (an openat
    /// of /etc/passwd, a close) would wait for ever.
    static func finalize(_ process: Process, attributes: ProcessAttributes, seccomp profile: Seccomp?,
                         keyring: String?, preserveFDs: Int32, proc: ProcFS?,
                         handOver: (SeccompFilter) throws -> Void) throws -> SeccompFilter? {
        let lastCap = try Capabilities.lastCap()
        try rlimits(process)
        try oomScoreAdj(process, proc: proc)
        try LSM.applyKeyCreate(process, write: LSM.procWriter(proc))
        if let keyring { try Keyring.joinNew(name: keyring) }
        try attributes.apply()
        try fixStdioOwnership(process.user)
        var cwd = try WorkingDirectory.enter(process.cwd)
        defer { cwd.close() }
        let program = process.args?.first ?? ""
        if cwd.entered { _ = try lookPath(program, env: process.env ?? []) }
        try LSM.applyExec(process, write: LSM.procWriter(proc))
        try noNewPrivileges(process)
        try markCloseOnExec(from: 3 + preserveFDs)
        let seccomp = try profile.map { try SeccompFilter($0) }
        if process.noNewPrivileges != true {
            // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: do it before the drop.
            if let seccomp {
                try seccomp.load()
                try handOver(seccomp)
            }
        }
        try Capabilities.dropBounding(process.capabilities, lastCap: lastCap)
        try Capabilities.setKeepCaps(true)
        try user(process.user)
        if !cwd.entered {
            // Root could not enter it (runc's second chdir): the user may.
            try cwd.enterAsUser()
            _ = try lookPath(program, env: process.env ?? [])
        }
        try Capabilities.setKeepCaps(false)
        try Capabilities.apply(process.capabilities)
        return seccomp
    }

    /// The first thing a child does: close (not just mark close-on-exec)
    /// every fd the caller of apus left open, past stdio, the preserved ones
    /// and the runtime's own, so that none of them (a host directory held by
    /// the caller, CVE-2024-21626) can be reached from the container.
    static func closeInheritedFDs(preserved: Int32, keep: [Int32]) throws {
        let kept = keep.filter { $0 >= 0 }
        let rc = kept.withUnsafeBufferPointer { apus_close_fds_except(UInt32(3 + preserved), $0.baseAddress, Int32($0.count)) }
        try check(rc, "closing inherited file descriptors", "close_range(\(3 + preserved), ~0)")
    }

    /// Like runc: stdio that the caller handed in (pipes, files, the pty)
    /// is given to the container's user, so that it can reopen it
    /// (/dev/stdout); the group stays, /dev/null is left alone, and a
    /// descriptor we may not chown (unmapped owner, read-only fs) is skipped.
    static func fixStdioOwnership(_ user: User) throws {
        for fd: Int32 in 0...2 {
            var st = stat()
            guard fstat(fd, &st) == 0 else { continue }
            if st.st_uid == user.uid { continue }
            // The null device by number, never by the rootfs's /dev/null
            // (a fake one there would get the host's /dev/null chowned).
            if (st.st_mode & S_IFMT) == S_IFCHR && st.st_rdev == makedev(1, 3) { continue }
            if fchown(fd, user.uid, st.st_gid) < 0 {
                if errno == EINVAL || errno == EPERM || errno == EROFS || errno == EBADF { continue }
                throw RuntimeError.syscall(step: "giving stdio to the container user", call: "fchown(\(fd), \(user.uid))", errno: errno)
            }
        }
    }

    /// Like runc (reOpenDevNull): stdio on the host's null device is
    /// replaced by the container's own /dev/null once inside the rootfs,
    /// so no fd keeps a host mount (CRIU cannot dump one: "Can't lookup
    /// mount"). A container /dev/null that is a symlink or not 1:3 is
    /// not used (the host's fd stays).
    static func reopenDevNull() {
        var null: Int32 = -1
        defer { if null >= 0 { close(null) } }
        for fd: Int32 in 0...2 {
            var st = stat()
            guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFCHR, st.st_rdev == makedev(1, 3) else { continue }
            if null < 0 {
                // RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS
                null = apus_openat2(AT_FDCWD, "/dev/null", UInt64(O_RDWR | O_CLOEXEC), 0, 0x04 | 0x02)
                var own = stat()
                guard null >= 0, fstat(null, &own) == 0, (own.st_mode & S_IFMT) == S_IFCHR, own.st_rdev == makedev(1, 3) else { return }
            }
            _ = dup2(null, fd)
        }
    }

    static func rlimits(_ process: Process) throws {
        for r in process.rlimits ?? [] {
            var lim = rlimit(rlim_cur: rlim_t(r.soft), rlim_max: rlim_t(r.hard))
            if setrlimit(__rlimit_resource_t(UInt32(r.type.resource)), &lim) < 0 {
                throw RuntimeError.syscall(step: "setting \(r.type.rawValue)", call: "setrlimit(\(r.type.rawValue), \(r.soft), \(r.hard))", errno: errno)
            }
        }
    }

    static func oomScoreAdj(_ process: Process, proc: ProcFS?) throws {
        guard let adj = process.oomScoreAdj else { return }
        let handle = try proc ?? ProcFS.open()
        defer { if proc == nil { handle.close() } }
        try handle.write(try handle.selfPath("oom_score_adj"), String(adj))
    }

    static func noNewPrivileges(_ process: Process) throws {
        guard process.noNewPrivileges == true else { return }
        try check(apus_prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "setting no_new_privs", "prctl(PR_SET_NO_NEW_PRIVS)")
    }

    static func user(_ user: User) throws {
        let groups = (user.additionalGids ?? []).map { gid_t($0) }
        // setgroups is refused in a user namespace whose setgroups is "deny"; with no extra groups, skip it there.
        if setgroups(groups.count, groups) < 0 && !(errno == EPERM && groups.isEmpty) {
            throw RuntimeError.syscall(step: "setting supplementary groups", call: "setgroups(\(groups))", errno: errno)
        }
        try check(apus_setresgid(user.gid), "setting the group", "setresgid(\(user.gid))")
        try check(apus_setresuid(user.uid), "setting the user", "setresuid(\(user.uid))")
        // Not the caller's umask: runc's default when the config has none.
        umask(mode_t(user.umask ?? 0o022))
    }

    /// What a candidate for args[0] turned out to be.
    enum Candidate {
        case missing(Int32), notRegular, notExecutable(Int32), executable
    }

    /// Resolves args[0] like execvp, with the container's PATH, so that a
    /// missing program fails `create`, not the later `start`. `probe` looks
    /// at one candidate path: by default in the caller's root (the init's,
    /// after pivot_root); `apus check` looks inside the rootfs instead.
    static func lookPath(_ name: String, env: [String], probe: (String) -> Candidate = probe) throws -> String {
        // runc's (Go's exec.LookPath) wording: dockerd and the docker CLI
        // turn "no such file or directory" / "executable file not found"
        // into exit code 127 and "permission denied" into 126.
        if name.contains("/") {
            switch probe(name) {
            case .missing(let err):
                throw RuntimeError.other("exec: \"\(name)\": stat \(name): \(goErrnoText(err))")
            case .notRegular:
                // A directory (or other non-file) cannot be executed: fail create, as runc does.
                throw RuntimeError.other("exec: \"\(name)\": \(goErrnoText(EACCES))")
            case .notExecutable(let err):
                throw RuntimeError.other("exec: \"\(name)\": \(goErrnoText(err))")
            case .executable:
                return name
            }
        }
        let pathVar = env.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for dir in pathVar.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            if case .executable = probe(candidate) { return candidate }
        }
        throw RuntimeError.other("exec: \"\(name)\": executable file not found in $PATH")
    }

    /// stat(2) and access(2) in the caller's root.
    static func probe(_ path: String) -> Candidate {
        var st = stat()
        if stat(path, &st) < 0 { return .missing(errno) }
        if (st.st_mode & S_IFMT) != S_IFREG { return .notRegular }
        if access(path, X_OK) < 0 { return .notExecutable(errno) }
        return .executable
    }

    /// The environment the program gets: process.env, plus HOME from the
    /// container's /etc/passwd when unset (as runc), plus the socket
    /// activation variables when fds are passed through LISTEN_FDS.
    static func environment(_ process: Process, listenFDs: Int32) -> [String] {
        var env = process.env ?? []
        if !env.contains(where: { $0.hasPrefix("HOME=") }) {
            env.append("HOME=" + (homeDirectory(uid: process.user.uid) ?? "/"))
        }
        if listenFDs > 0 { env += ["LISTEN_FDS=\(listenFDs)", "LISTEN_PID=1"] }
        return env
    }

    /// Reads the rootfs's /etc/passwd (we are past pivot_root): name:x:uid:gid:gecos:home:shell.
    static func homeDirectory(uid: UInt32) -> String? {
        // The rootfs's file: only a regular one, never a FIFO or device that could block or flood us.
        let fd = open("/etc/passwd", O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG,
              let bytes = try? FS.readAll(fd, path: "/etc/passwd", limit: 4 << 20) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            if f.count >= 6, UInt32(f[2]) == uid, !f[5].isEmpty { return String(f[5]) }
        }
        return nil
    }

    /// Marks every fd past stdio and the preserved ones close-on-exec: the
    /// runtime's own (sync socket, procfs) must not outlive execve.
    static func markCloseOnExec(from first: Int32) throws {
        try check(apus_close_range_cloexec(UInt32(first)), "closing file descriptors", "close_range(\(first), ~0, CLOSE_RANGE_CLOEXEC)")
    }

    /// execve with a clean signal state: handlers reset by exec itself, the
    /// mask (inherited from `apus run`, which blocks everything) cleared here.
    static func exec(_ path: String, args: [String], env: [String]) -> Int32 {
        // Ignored signals stay ignored across exec: reset every disposition.
        apus_reset_signals()
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = env.map { strdup($0) } + [nil]
        execve(path, &cArgs, &cEnv)
        return errno
    }
}
