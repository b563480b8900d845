import ApusSpec
import CApusShim
import Glibc

extension Runtime {
    /// `apus run`: create + start. In the foreground apus stays the init's
    /// parent: it forwards signals, relays the terminal if the container has
    /// one, reaps, and exits with the container's status (128+n when killed
    /// by signal n), deleting it unless --keep.
    public func run(id: String, options: CreateOptions, detach: Bool, keep: Bool, subreaper: Bool = true) throws -> Int32 {
        if !detach && subreaper {
            // Orphans of the container are re-parented to us, not to the host's init.
            _ = apus_prctl(36 /* PR_SET_CHILD_SUBREAPER */, 1, 0, 0, 0)
        }
        let (consoleSocket, record, spec, startSocket) = try create(id: id, options: options, consoleForRun: !detach, forRun: true)
        defer { if consoleSocket >= 0 { close(consoleSocket) } }
        if detach {
            try startCreated(record, spec: spec, socket: startSocket)
            return 0
        }
        var all = sigset_t()
        sigfillset(&all)
        var old = sigset_t()
        sigprocmask(SIG_BLOCK, &all, &old)
        defer { sigprocmask(SIG_SETMASK, &old, nil) }
        let status: Int32
        do {
            let relay = consoleSocket >= 0 ? try TerminalRelay(consoleSocket: consoleSocket) : nil
            defer { relay?.restore() }
            try startCreated(record, spec: spec, socket: startSocket)
            var supervisor = Supervisor(initPID: record.pid, relay: relay, cgroupPaths: record.cgroupPaths)
            status = try supervisor.waitForExit()
        } catch {
            try? delete(id: id, force: true)
            throw error
        }
        if !keep { try delete(id: id, force: true) }
        return status
    }
}

/// The foreground `run` loop: one poll over a signalfd (every signal is
/// blocked) and, with a terminal, the pty master and our stdin.
struct Supervisor {
    let initPID: Int32
    var relay: TerminalRelay?
    /// The container's cgroups: a process frozen in them cannot act on a
    /// forwarded signal, so a terminating one ends the wait instead.
    var cgroupPaths: [String: String] = [:]

    static let terminating: Set<Int32> = [SIGTERM, SIGINT, SIGHUP, SIGQUIT]

    mutating func waitForExit() throws -> Int32 {
        var all = sigset_t(), old = sigset_t()
        sigfillset(&all)
        sigprocmask(SIG_BLOCK, &all, &old)
        defer { sigprocmask(SIG_SETMASK, &old, nil) }
        let sigfd = apus_signalfd(&all)
        try check(sigfd, "forwarding signals", "signalfd()")
        defer { close(sigfd) }
        // A SIGCHLD that came before the signalfd is gone: reap once first.
        if let status = reap() {
            relay?.drain()
            return status
        }
        while true {
            var fds = [pollfd(fd: sigfd, events: Int16(POLLIN), revents: 0)]
            if let relay { fds += relay.pollFDs }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                throw RuntimeError.syscall(step: "waiting for the container", call: "poll()", errno: errno)
            }
            relay?.pump(fds.dropFirst())
            while true {
                let sig = apus_signalfd_read(sigfd)
                if sig <= 0 { break }
                if sig == SIGCHLD {
                    if let status = reap() {
                        relay?.drain()
                        return status
                    }
                } else if sig == SIGWINCH {
                    relay?.resize()
                } else {
                    kill(initPID, sig)
                    // It stays pending in the frozen process (delivered on
                    // resume); we stop waiting, as the caller asked.
                    if Self.terminating.contains(sig) && Cgroups.isFrozen(paths: cgroupPaths) {
                        relay?.drain()
                        return 128 + sig
                    }
                }
            }
        }
    }

    /// Reaps every exited child (we are a subreaper); the init's status when it is among them.
    private func reap() -> Int32? {
        var result: Int32?
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return result }
            if pid == initPID {
                let sig = status & 0x7f
                result = sig == 0 ? (status >> 8) & 0xff : 128 + sig
            }
        }
    }
}

/// Copies between our stdio and the container's pty, with our terminal in
/// raw mode so keystrokes (^C included) reach the container untouched.
struct TerminalRelay {
    let master: Int32
    private var saved: termios?
    private var stdinOpen = true
    private var masterOpen = true

    init(consoleSocket: Int32) throws {
        let master = apus_recv_fd(consoleSocket)
        try check(master, "receiving the container's console", "recvmsg(SCM_RIGHTS)")
        self.init(master: master)
    }

    /// Relays `master` (owned from here on: closed by `restore`).
    init(master: Int32) {
        self.master = master
        if isatty(0) == 1 {
            var t = termios()
            if tcgetattr(0, &t) == 0 {
                saved = t
                cfmakeraw(&t)
                tcsetattr(0, TCSANOW, &t)
            }
        }
        resize()
    }

    func restore() {
        if var t = saved { tcsetattr(0, TCSANOW, &t) }
        close(master)
    }

    func resize() {
        var ws = winsize()
        if apus_ioctl_ptr(0, UInt(TIOCGWINSZ), &ws) == 0 { _ = apus_set_winsize(master, ws.ws_row, ws.ws_col) }
    }

    var pollFDs: [pollfd] {
        [pollfd(fd: masterOpen ? master : -1, events: Int16(POLLIN), revents: 0),
         pollfd(fd: stdinOpen ? 0 : -1, events: Int16(POLLIN), revents: 0)]
    }

    mutating func pump(_ ready: ArraySlice<pollfd>) {
        guard ready.count == 2 else { return }
        let m = ready[ready.startIndex], i = ready[ready.startIndex + 1]
        if m.revents != 0 && !copy(from: master, to: 1) { masterOpen = false }
        if i.revents != 0 && !copy(from: 0, to: master) { stdinOpen = false }
    }

    /// What the container printed before it exited.
    mutating func drain() {
        let flags = fcntl(master, F_GETFL)
        _ = fcntl(master, F_SETFL, flags | O_NONBLOCK)
        while masterOpen && copy(from: master, to: 1) {}
    }

    /// One read and its write; false at EOF or error (EIO once the pty's
    /// last slave is closed).
    private func copy(from: Int32, to: Int32) -> Bool {
        var buf = [UInt8](repeating: 0, count: 8192)
        let n = read(from, &buf, buf.count)
        if n <= 0 { return n < 0 && errno == EINTR }
        var off = 0
        while off < n {
            let w = buf.withUnsafeBytes { write(to, $0.baseAddress! + off, n - off) }
            if w < 0 { if errno == EINTR { continue }; return false }
            off += w
        }
        return true
    }
}
