import ApusSpec
import CApusShim
import Glibc

extension Runtime {
    /// `apus start`: releases the init blocked on the exec fifo, exactly once.
    public func start(id: String) throws {
        let dir = try store.open(id)
        try dir.lock()
        let record = try dir.load()
        let status = record.currentStatus(dir: dir)
        switch status {
        case .created: break
        case .stopped: throw RuntimeError.other("cannot start a container that has stopped")
        case .running: throw RuntimeError.other("cannot start an already running container")
        case .paused, .creating: throw RuntimeError.other("cannot start a container in the \(status.rawValue) state")
        }
        let fd = open(dir.fifoPath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        try check(fd, "starting the container", "open(\(dir.fifoPath))")
        defer { close(fd) }
        try ExecFifo.release(fd, record: record)
        unlink(dir.fifoPath)
        try ExecFifo.waitForExec(fd, record: record)
        try ranPoststart(record, spec: savedSpec(dir))
    }

    /// `run`'s start: the container it has just created, released through
    /// its end of the start socket (ExecFifo.make), which it closes.
    func startCreated(_ record: ContainerRecord, spec: Spec, socket: Int32) throws {
        defer { close(socket) }
        var byte: UInt8 = 0x30
        guard send(socket, &byte, 1, Int32(MSG_NOSIGNAL)) == 1 else {
            throw RuntimeError.other("cannot start a container that has stopped")
        }
        try ExecFifo.waitForExec(socket, record: record)
        try ranPoststart(record, spec: spec)
    }

    private func ranPoststart(_ record: ContainerRecord, spec: Spec) throws {
        log.debug("start \(record.id): released init \(record.pid)")
        Hooks.runWarning(.poststart, hooks: spec.hooks, state: StateOutput.oci(record, status: .running)) {
            log.warning($0)
        }
    }

    func savedSpec(_ dir: ContainerDir) throws -> Spec {
        do {
            return try dir.savedConfig()
        } catch let e as SpecError {
            throw RuntimeError.corruptState(id: dir.id, reason: "\(e)")
        }
    }
}

/// The handshake between `start` and the waiting init: the init blocks in
/// open(O_WRONLY) until `start` opens the fifo for reading, then writes one
/// byte and keeps the fifo open, close-on-exec, until its execve: `start`
/// reads on to EOF, so poststart hooks run after the program started.
/// Removing the fifo marks the container as started.
enum ExecFifo {
    /// What the init blocks on until the container is started, and what
    /// starts it. `create`: the exec fifo in the state directory (an O_PATH
    /// fd the init reopens for writing; `start`, another process, opens it;
    /// `state` sees it). `run` starts the container itself: a socketpair,
    /// the init reading one byte from its end and holding it (close-on-exec)
    /// until execve, `run` writing the byte and reading to EOF. No inode is
    /// made or removed in the state directory: on ext4 each costs `run`
    /// time (README "Performance"). Returns (the init's fd, run's fd or -1).
    static func make(_ dir: ContainerDir, forRun: Bool) throws -> (Int32, Int32) {
        if forRun {
            var fds: [Int32] = [-1, -1]
            try check(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds),
                      "creating the start socket", "socketpair(AF_UNIX, SOCK_STREAM)")
            return (fds[0], fds[1])
        }
        try check(mkfifo(dir.fifoPath, 0o622), "creating the exec fifo", "mkfifo(\(dir.fifoPath))")
        // Writable by the init even after it drops to process.user (umask would strip that).
        try check(chmod(dir.fifoPath, 0o622), "creating the exec fifo", "chmod(\(dir.fifoPath))")
        let fd = open(dir.fifoPath, APUS_O_PATH | O_CLOEXEC)
        try check(fd, "opening the exec fifo", "open(\(dir.fifoPath), O_PATH)")
        return (fd, -1)
    }

    /// Waits for the init's byte on `fd` (the fifo opened for reading,
    /// non-blocking); fails if the init died before writing it.
    static func release(_ fd: Int32, record: ContainerRecord) throws {
        var byte: UInt8 = 0
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 100)
            if ready < 0 && errno != EINTR {
                throw RuntimeError.syscall(step: "starting the container", call: "poll(exec fifo)", errno: errno)
            }
            if ready > 0 {
                let n = read(fd, &byte, 1)
                if n == 1 { return }
                if n < 0 && errno != EAGAIN && errno != EINTR {
                    throw RuntimeError.syscall(step: "starting the container", call: "read(exec fifo)", errno: errno)
                }
            }
            // An init that died while waiting never writes: don't wait forever.
            guard record.initAlive else {
                throw RuntimeError.other("cannot start a container that has stopped")
            }
        }
    }

    /// Reads to EOF: the init's write end closes at its execve (or death).
    /// A container paused meanwhile would never get there: stop waiting.
    static func waitForExec(_ fd: Int32, record: ContainerRecord) throws {
        var byte: UInt8 = 0
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 100)
            if ready < 0 {
                if errno == EINTR { continue }
                throw RuntimeError.syscall(step: "starting the container", call: "poll(exec fifo)", errno: errno)
            }
            if ready == 0 {
                if Cgroups.isFrozen(paths: record.cgroupPaths) { return }
                continue
            }
            let n = read(fd, &byte, 1)
            if n == 0 { return }
            if n < 0 && errno != EAGAIN && errno != EINTR {
                throw RuntimeError.syscall(step: "starting the container", call: "read(exec fifo)", errno: errno)
            }
        }
    }
}
