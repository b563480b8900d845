import ApusSpec
import CApusShim
import Glibc

extension Runtime {
    /// `apus start`: releases the init blocked on the exec fifo, exactly once.
    /// `spec`: the container's config when the caller has it (`run`, which
    /// just saved it), else it is read back from the state directory.
    public func start(id: String, spec known: Spec? = nil) throws {
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
        try ExecFifo.release(dir.fifoPath, record: record)
        log.debug("start \(id): released init \(record.pid)")
        let spec = try known ?? savedSpec(dir)
        Hooks.runWarning(.poststart, hooks: spec.hooks, state: StateOutput.oci(record, status: .running)) {
            log.warning($0)
        }
    }

    func savedSpec(_ dir: ContainerDir) throws -> Spec {
        do {
            return try Spec.decode(ConfigLoader.readDocument(dir.configPath, file: dir.configPath), file: dir.configPath)
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
    static func release(_ path: String, record: ContainerRecord) throws {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        try check(fd, "starting the container", "open(\(path))")
        defer { close(fd) }
        var byte: UInt8 = 0
        while true {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 100)
            if ready < 0 && errno != EINTR {
                throw RuntimeError.syscall(step: "starting the container", call: "poll(exec fifo)", errno: errno)
            }
            if ready > 0 {
                let n = read(fd, &byte, 1)
                if n == 1 { break }
                if n < 0 && errno != EAGAIN && errno != EINTR {
                    throw RuntimeError.syscall(step: "starting the container", call: "read(exec fifo)", errno: errno)
                }
            }
            // An init that died while waiting never writes: don't wait forever.
            guard record.initAlive else {
                throw RuntimeError.other("cannot start a container that has stopped")
            }
        }
        unlink(path)
        try waitForExec(fd, record: record)
    }

    /// Reads to EOF: the init's write end closes at its execve (or death).
    /// A container paused meanwhile would never get there: stop waiting.
    private static func waitForExec(_ fd: Int32, record: ContainerRecord) throws {
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
