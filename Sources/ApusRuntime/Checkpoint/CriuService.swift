import CApusShim
import Glibc

/// One `criu swrk 3` process driven over a SOCK_SEQPACKET socketpair, as
/// runc does: a request, then CRIU's notifications (each acknowledged)
/// until its final answer. CRIU's own failure (its errno, message and the
/// log file) is what the caller sees.
struct CriuService {
    let binary: String
    /// Where CRIU writes its log (named in errors).
    let logPath: String
    /// Restore: CRIU runs in the container's cgroups, so the tree it restores does.
    var cgroupPaths: [String: String] = [:]

    /// Runs one request. `extraFDs` become fds 4, 5, … in CRIU (for
    /// inherit_fd); `notify` sees each notification before it is acknowledged
    /// (a descriptor sent with one, `passedFD`, is closed after it).
    func run(_ request: CriuRequest, extraFDs: [Int32] = [], stdio: [Int32]? = nil,
             notify: (CriuResponse) throws -> Void = { _ in }) throws -> CriuResponse {
        var fds: [Int32] = [-1, -1]
        try check(socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds),
                  "starting criu", "socketpair(AF_UNIX, SOCK_SEQPACKET)")
        let client = fds[0]
        defer { close(client) }
        let pid: pid_t
        do {
            pid = try spawn(server: fds[1], extraFDs: extraFDs, stdio: stdio)
        } catch {
            close(fds[1])
            throw error
        }
        close(fds[1])
        var reaped = false
        defer { if !reaped { Self.stop(pid, client: client) } }
        try Cgroups.join(pid: pid, cgroupPaths)
        try send(request, to: client)
        var response: CriuResponse
        while true {
            response = try receive(from: client)
            guard response.success else { break }
            guard response.type == CriuRequestType.notify.rawValue else { break }
            defer { if response.passedFD >= 0 { close(response.passedFD) } }
            try notify(response)
            try send(CriuRequest(type: .notify, options: nil, notifySuccess: true), to: client)
        }
        shutdown(client, Int32(SHUT_WR))
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
        guard response.success else {
            var text = "criu failed: type \(request.type.name) errno \(response.crErrno ?? 0)"
            if let m = response.crErrmsg, !m.isEmpty { text += ": \(m)" }
            text += "\n" + logExcerpt()
            throw RuntimeError.other(text)
        }
        return response
    }

    /// Ends a CRIU whose request failed on our side (a hook, the console):
    /// with its socket shut it fails the request and cleans up after itself
    /// (the restored tasks, its cgroup yard mounts), as when runc goes away;
    /// killed if it has not exited within 10 s.
    private static func stop(_ pid: pid_t, client: Int32) {
        shutdown(client, Int32(SHUT_RDWR))
        let pidfd = apus_pidfd_open(pid)
        if pidfd >= 0 {
            var pfd = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            while poll(&pfd, 1, 10_000) < 0 && errno == EINTR {}
            close(pidfd)
        }
        kill(pid, SIGKILL)
        while waitpid(pid, nil, 0) < 0 && errno == EINTR {}
    }

    private func spawn(server: Int32, extraFDs: [Int32], stdio: [Int32]?) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Shuffled through high numbers first so no target overwrites a source.
        let sources = (stdio ?? []) + [server] + extraFDs
        for (i, fd) in sources.enumerated() { posix_spawn_file_actions_adddup2(&actions, fd, Int32(1000 + i)) }
        var next = 0
        if let stdio {
            for i in stdio.indices { posix_spawn_file_actions_adddup2(&actions, Int32(1000 + next + i), Int32(i)) }
            next += stdio.count
        }
        posix_spawn_file_actions_adddup2(&actions, Int32(1000 + next), 3)
        for i in extraFDs.indices { posix_spawn_file_actions_adddup2(&actions, Int32(1000 + next + 1 + i), Int32(4 + i)) }
        for i in sources.indices { posix_spawn_file_actions_addclose(&actions, Int32(1000 + i)) }
        let args = [binary, "swrk", "3"]
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = binary.contains("/") ? posix_spawn(&pid, binary, &actions, nil, &cArgs, environ)
            : posix_spawnp(&pid, binary, &actions, nil, &cArgs, environ)
        if rc != 0 {
            throw RuntimeError.other("starting criu (\(binary)): \(errnoText(rc))" + (rc == ENOENT ? " (install it with `make deps`, or pass --criu PATH)" : ""))
        }
        return pid
    }

    private func send(_ request: CriuRequest, to fd: Int32) throws {
        let bytes = request.bytes
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n != bytes.count {
            throw RuntimeError.other("criu (\(binary)) did not take the request: \(errnoText(errno))\n" + logExcerpt())
        }
    }

    private func receive(from fd: Int32) throws -> CriuResponse {
        var buf = [UInt8](repeating: 0, count: 64 * 1024)
        var passed: Int32 = -1
        let n = buf.withUnsafeMutableBytes { apus_recv_fd_data(fd, $0.baseAddress, $0.count, &passed) }
        if n < 0 { throw RuntimeError.syscall(step: "talking to criu", call: "recvmsg(criu socket)", errno: errno) }
        if n == 0 { throw RuntimeError.other("criu (\(binary)) exited without an answer\n" + logExcerpt()) }
        do {
            var response = try CriuResponse(Array(buf[0..<n]))
            response.passedFD = passed
            return response
        } catch {
            if passed >= 0 { close(passed) }
            throw RuntimeError.other("criu (\(binary)) sent a malformed answer")
        }
    }

    /// The last error lines of CRIU's log, and where the whole log is.
    func logExcerpt() -> String {
        guard !logPath.isEmpty else { return "" }
        let text = (try? FS.readString(logPath)) ?? ""
        let errors = text.split(separator: "\n").filter { Self.mentions($0, "Error") || Self.mentions($0, "error") }.suffix(5)
        return (errors.isEmpty ? "" : errors.joined(separator: "\n") + "\n") + "log file: \(logPath)"
    }

    /// Whether `line` holds `word`, Character by Character as `line.contains(word)`
    /// would; written out because that overload lives in _StringProcessing,
    /// whose (with _RegexParser) 1.3 MB it would link into the static binary.
    static func mentions(_ line: Substring, _ word: String) -> Bool {
        var rest = line
        while !rest.isEmpty {
            if rest.hasPrefix(word) { return true }
            rest = rest.dropFirst()
        }
        return false
    }
}
