import Glibc

public enum ContainerStatus: String {
    case creating, created, running, paused, stopped
}

/// What /proc says about a pid: enough to tell a live init from a zombie
/// or from an unrelated process that reused the pid.
struct ProcStat {
    var state: Character
    var startTime: UInt64
    var threads: Int

    static func read(pid: Int32) -> ProcStat? {
        guard pid > 0, let bytes = try? FS.read("/proc/\(pid)/stat", limit: 1 << 16) else { return nil }
        // The command name may contain spaces and parentheses: fields start after the last ')'.
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = bytes[(close + 2)...].split(separator: UInt8(ascii: " "))
        // fields[0] is field 3 (state); num_threads is field 20, start time field 22.
        guard fields.count > 19, let st = UInt64(String(decoding: fields[19], as: UTF8.self)),
              let first = fields[0].first else { return nil }
        let threads = Int(String(decoding: fields[17], as: UTF8.self)) ?? 0
        return ProcStat(state: Character(UnicodeScalar(first)), startTime: st, threads: threads)
    }

    var isAlive: Bool { state != "Z" && state != "X" && state != "x" }
}

extension ContainerRecord {
    /// The process at `pid` is still the recorded init (same /proc start
    /// time), exited (a zombie) or not.
    var initPresent: Bool { ProcStat.read(pid: pid)?.startTime == pidStartTime }

    /// The recorded init runs (not exited, not a process that reused its
    /// pid): the one "is the init alive" check.
    var initAlive: Bool {
        guard let stat = ProcStat.read(pid: pid) else { return false }
        return stat.isAlive && stat.startTime == pidStartTime
    }

    /// Derives the status the way runc does: the init's liveness (checked
    /// against its recorded start time), then the freezer (a created
    /// container can be paused too), then the exec fifo.
    public func currentStatus(dir: ContainerDir) -> ContainerStatus {
        guard initAlive else { return .stopped }
        if Cgroups.isFrozen(paths: cgroupPaths) { return .paused }
        if FS.exists(dir.fifoPath) { return .created }
        return .running
    }
}
