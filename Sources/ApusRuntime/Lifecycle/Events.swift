import ApusSpec
import CApusShim
import Glibc

extension Runtime {
    /// `apus events`: runc's event stream for a container that is not
    /// stopped. With `statsOnly`, one "stats" event; else a "stats" event
    /// every `interval` nanoseconds and an "oom" event for each OOM kill
    /// in its memory cgroup, until its init exits, its cgroup is removed
    /// or SIGTERM/SIGINT/SIGHUP arrives. `emit` gets each event as it comes.
    public func events(id: String, interval: Int64, statsOnly: Bool, emit: (JSONValue) -> Void) throws {
        let dir = try store.open(id)
        let record = try dir.load()
        // runc's order of checks and its words.
        guard interval > 0 else { throw RuntimeError.other("duration interval must be greater than 0") }
        let notRunning = RuntimeError.other("container with id \(id) is not running")
        guard record.currentStatus(dir: dir) != .stopped else { throw notRunning }
        let pidfd = try openInit(record, stopped: notRunning, step: "watching the container")
        let probe: StatsProbe
        do { probe = try StatsProbe(record: record, pidfd: pidfd) } catch {
            Glibc.close(pidfd)
            throw error
        }
        defer { probe.close() }
        if statsOnly {
            emit(probe.statsEvent())
            return
        }
        var stream = try EventStream(probe: probe, interval: interval)
        defer { stream.close() }
        try stream.run(emit)
    }
}

/// Reads one container's stats: its cgroups, and the network of its init
/// (held by a pidfd taken before its start time was checked, so a reused
/// pid is never read).
struct StatsProbe {
    let record: ContainerRecord
    let pidfd: Int32
    let proc: ProcFS
    let hugePageSizes = CgroupHost.kernelHugePageSizes()

    /// `pidfd`: the verified init's (`Runtime.openInit`), closed by `close`.
    init(record: ContainerRecord, pidfd: Int32) throws {
        self.record = record
        self.pidfd = pidfd
        proc = try ProcFS.host()
    }

    func close() {
        Glibc.close(pidfd)
        proc.close()
    }

    /// The init has exited (its pidfd polls readable).
    var initExited: Bool {
        var p = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0
    }

    func statsEvent() -> JSONValue {
        let stats = CgroupStats.read(record.cgroupPaths, hugePageSizes: hugePageSizes) { try? FS.readString($0) }
        var interfaces = KernelView(proc: proc, pid: record.pid).networkInterfaces()
        // Read from /proc/<pid>: worthless if that pid is no longer the init.
        if initExited { interfaces = nil }
        let network: JSONValue = interfaces.flatMap { $0.isEmpty ? nil : .array($0.map(\.json)) } ?? .null
        return Self.event("stats", id: record.id, data: stats.json(network: network))
    }

    /// runc's types.Event: type, id and (omitted when empty) data.
    static func event(_ type: String, id: String, data: JSONValue? = nil) -> JSONValue {
        var b = GoObject()
        b.set("type", .string(type))
        b.set("id", .string(id))
        if let data { b.set("data", data) }
        return b.json
    }
}

/// The `apus events` loop: one poll over a timerfd (stats), the OOM
/// watcher's fd, the init's pidfd, a signalfd and stdout (whose reader may
/// go: then the stream ends, even with SIGPIPE ignored); single-threaded.
struct EventStream {
    let probe: StatsProbe
    let timerFD: Int32
    let signalFD: Int32
    /// stdout, polled for POLLERR/POLLHUP (-1 if closed: poll would say POLLNVAL each time).
    let outputFD: Int32 = fcntl(1, F_GETFD) >= 0 ? 1 : -1
    var oom: OOMWatcher?
    private var oldMask = sigset_t()

    static let endingSignals = [SIGTERM, SIGINT, SIGHUP]

    init(probe: StatsProbe, interval: Int64) throws {
        self.probe = probe
        var mask = sigset_t()
        sigemptyset(&mask)
        for s in Self.endingSignals { sigaddset(&mask, s) }
        sigprocmask(SIG_BLOCK, &mask, &oldMask)
        var fds: [Int32] = []
        do {
            signalFD = try check(apus_signalfd(&mask), "watching the container", "signalfd()")
            fds.append(signalFD)
            timerFD = try check(apus_timerfd_periodic(interval), "watching the container", "timerfd_create()")
            fds.append(timerFD)
            oom = try OOMWatcher.open(probe.record.cgroupPaths)
        } catch {
            for fd in fds { Glibc.close(fd) }
            sigprocmask(SIG_SETMASK, &oldMask, nil)
            throw error
        }
    }

    mutating func close() {
        oom?.close()
        Glibc.close(timerFD)
        Glibc.close(signalFD)
        sigprocmask(SIG_SETMASK, &oldMask, nil)
    }

    /// Until the init exits, the cgroup goes or a signal ends it. OOM
    /// events come before the stats and the end found in the same wake-up,
    /// and are looked for once more at the end.
    mutating func run(_ emit: (JSONValue) -> Void) throws {
        let id = probe.record.id
        while true {
            var fds = [pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: timerFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: probe.pidfd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: oom?.fd ?? -1, events: Int16(POLLIN), revents: 0),
                       // whoever reads the stream has gone (a pipe's reader closed it)
                       pollfd(fd: outputFD, events: 0, revents: 0)]
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                throw RuntimeError.syscall(step: "watching the container", call: "poll()", errno: errno)
            }
            if fds[3].revents != 0, let seen = oom?.collect() {
                if seen.oom { emit(StatsProbe.event("oom", id: id)) }
                if seen.gone { return }
            }
            if fds[1].revents != 0, apus_read_counter(timerFD) > 0 { emit(probe.statsEvent()) }
            if fds[2].revents != 0 {
                if oom?.collect().oom == true { emit(StatsProbe.event("oom", id: id)) }
                return
            }
            if fds[0].revents != 0, apus_signalfd_read(signalFD) > 0 { return }
            if fds[4].revents & Int16(POLLERR | POLLHUP) != 0 { return }
        }
    }
}
