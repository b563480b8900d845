import ApusSpec
import CApusShim
import Glibc

/// How the container's processes are scheduled and where their memory
/// comes from: process.scheduler (sched_setattr), process.ioPriority
/// (ioprio_set), linux.personality (personality), linux.memoryPolicy
/// (set_mempolicy) and, for `exec`, process.execCPUAffinity
/// (sched_setaffinity). All are inherited across fork and execve.
///
/// The init applies them itself in `ProcessSetup.finalize`: it is in the
/// container's cgroups already, still root with every capability
/// (real-time and deadline policies and IOPRIO_CLASS_RT need CAP_SYS_NICE
/// or CAP_SYS_ADMIN), and no seccomp filter is loaded yet (an old profile
/// may not know these syscalls). An `exec`'d process joins the cgroups
/// only after its setup, and a real-time policy or a CPU list is checked
/// against the cgroup the process is in: so, as runc does it, `apus exec`
/// sets the affinity, policy and I/O priority of the process once it is
/// there (`applyToExec`); the process sets its personality and memory
/// policy itself, which only a process can do for itself.
struct ProcessAttributes {
    var scheduler: Scheduler?
    var ioPriority: IOPriority?
    var personality: Personality?
    var memoryPolicy: MemoryPolicy?

    /// The init's: all of them.
    init(process: Process, linux: Linux?) {
        scheduler = process.scheduler
        ioPriority = process.ioPriority
        personality = linux?.personality
        memoryPolicy = linux?.memoryPolicy
    }

    /// An `exec`'d process's own part.
    init(linux: Linux?) {
        personality = linux?.personality
        memoryPolicy = linux?.memoryPolicy
    }

    /// On the calling process, in runc's order.
    func apply() throws {
        if let s = scheduler { try Self.setScheduler(s, pid: 0) }
        if let io = ioPriority { try Self.setIOPriority(io, pid: 0) }
        if let p = personality { try Self.setPersonality(p) }
        if let mp = memoryPolicy { try Self.setMemoryPolicy(mp) }
    }

    /// `apus exec`, on the new process once it is in the container's
    /// cgroups: execCPUAffinity.final (the affinity first: a deadline task
    /// may not change it), then the scheduler and the I/O priority.
    static func applyToExec(_ process: Process, pid: pid_t) throws {
        if let cpus = process.execCPUAffinity?.final, !cpus.isEmpty {
            try CPUAffinity.set(cpus, property: "process.execCPUAffinity.final", pid: pid)
        }
        if let s = process.scheduler { try setScheduler(s, pid: pid) }
        if let io = process.ioPriority { try setIOPriority(io, pid: pid) }
    }

    static func setScheduler(_ s: Scheduler, pid: pid_t) throws {
        let flags = (s.flags ?? []).compactMap(SchedulerFlag.init(rawValue:)).reduce(UInt64(0)) { $0 | $1.value }
        let rc = apus_sched_setattr(pid, s.policy.value, flags, s.nice ?? 0, UInt32(bitPattern: s.priority ?? 0),
                                    s.runtime ?? 0, s.deadline ?? 0, s.period ?? 0)
        if rc < 0 {
            let err = errno
            let text = "setting process.scheduler: sched_setattr(\(describe(s))): \(errnoText(err))"
            switch (err, s.policy) {
            case (EPERM, .SCHED_FIFO), (EPERM, .SCHED_RR):
                // A kernel with RT group scheduling refuses real-time tasks in a cpu cgroup without RT time.
                throw RuntimeError.other(text + " (a real-time policy needs linux.resources.cpu.realtimeRuntime on a kernel with RT group scheduling)")
            case (EPERM, .SCHED_DEADLINE):
                throw RuntimeError.other(text + " (a SCHED_DEADLINE process must be allowed on every CPU: linux.resources.cpu.cpus, execCPUAffinity)")
            default:
                throw RuntimeError.syscall(step: "setting process.scheduler", call: "sched_setattr(\(describe(s)))", errno: err)
            }
        }
    }

    /// What sched_setattr was asked for, for the error message.
    static func describe(_ s: Scheduler) -> String {
        var parts = [s.policy.rawValue]
        if let n = s.nice, n != 0 { parts.append("nice \(n)") }
        if let p = s.priority, p != 0 { parts.append("priority \(p)") }
        if s.policy == .SCHED_DEADLINE {
            parts.append("runtime \(s.runtime ?? 0) deadline \(s.deadline ?? 0) period \(s.period ?? 0)")
        }
        parts += s.flags ?? []
        return parts.joined(separator: ", ")
    }

    /// The ioprio value: class in the top bits, level below (include/uapi/linux/ioprio.h).
    static func ioprio(_ io: IOPriority) -> Int32 { io.class.value << 13 | Int32(io.priority) }

    /// For the one process (IOPRIO_WHO_PROCESS), inherited by its children:
    /// runc's IOPRIO_WHO_PGRP would reach the caller of `apus exec`.
    static func setIOPriority(_ io: IOPriority, pid: pid_t) throws {
        if apus_ioprio_set(pid, ioprio(io)) < 0 {
            throw RuntimeError.syscall(step: "setting process.ioPriority",
                                       call: "ioprio_set(\(io.class.rawValue), \(io.priority))", errno: errno)
        }
    }

    static func setPersonality(_ p: Personality) throws {
        if apus_personality(UInt(p.domain.value)) < 0 {
            throw RuntimeError.syscall(step: "setting linux.personality", call: "personality(\(p.domain.rawValue))", errno: errno)
        }
    }

    static func setMemoryPolicy(_ mp: MemoryPolicy) throws {
        let mode = (mp.flags ?? []).reduce(mp.mode.value) { $0 | $1.value }
        let ranges = try nodeRanges(mp.nodes)
        var rc: Int32
        if ranges.isEmpty {
            rc = apus_set_mempolicy(mode, nil, 0)
        } else {
            let mask = Bitmap.words(ranges)
            // maxnode counts one more than the bits the kernel reads (set_mempolicy(2)).
            rc = mask.withUnsafeBufferPointer { apus_set_mempolicy(mode, $0.baseAddress, UInt(mask.count * 64 + 1)) }
        }
        if rc < 0 {
            let flags = (mp.flags ?? []).map { "|" + $0.rawValue }.joined()
            throw RuntimeError.syscall(step: "setting linux.memoryPolicy",
                                       call: "set_mempolicy(\(mp.mode.rawValue)\(flags), nodes \"\(mp.nodes ?? "")\")", errno: errno)
        }
    }

    static func nodeRanges(_ nodes: String?) throws -> [ClosedRange<Int>] {
        do { return try CPUList.parse(nodes ?? "") } catch let e as CPUList.ParseError {
            throw RuntimeError.unsupported(path: "linux.memoryPolicy.nodes", reason: e.message)
        }
    }
}

/// process.execCPUAffinity: the CPUs an `exec`'d process may run on.
/// `initial` is set on `apus exec` itself around the fork, so the new
/// process has it from its first instruction, through the namespace and
/// cgroup joins; `final` once it is in the cgroups (`applyToExec`).
enum CPUAffinity {
    /// Every CPU number a list may name (CPUList.maxID), so the mask is
    /// never shorter than the kernel's (sched_setaffinity(2) needs that).
    static let words = CPUList.maxID / 64 + 1

    static func set(_ cpus: String, property: String, pid: pid_t = 0) throws {
        let ranges: [ClosedRange<Int>]
        do { ranges = try CPUList.parse(cpus) } catch let e as CPUList.ParseError {
            throw RuntimeError.unsupported(path: property, reason: e.message)
        }
        try set(Bitmap.words(ranges, bits: words * 64), step: "setting \(property)", call: "sched_setaffinity(\(cpus))", pid: pid)
    }

    static func set(_ mask: [UInt64], step: String, call: String, pid: pid_t = 0) throws {
        let rc = mask.withUnsafeBufferPointer { apus_sched_setaffinity(pid, $0.baseAddress, $0.count) }
        if rc < 0 { throw RuntimeError.syscall(step: step, call: call, errno: errno) }
    }

    static func current() throws -> [UInt64] {
        var mask = [UInt64](repeating: 0, count: words)
        let rc = mask.withUnsafeMutableBufferPointer { apus_sched_getaffinity(0, $0.baseAddress, $0.count) }
        if rc < 0 { throw RuntimeError.syscall(step: "reading the CPU affinity", call: "sched_getaffinity()", errno: errno) }
        return mask
    }

    /// Runs `body` (the fork of an exec'd process) with `initial` as this
    /// process's affinity, then puts the old one back.
    static func withInitial<T>(_ initial: String?, _ body: () throws -> T) throws -> T {
        guard let initial, !initial.isEmpty else { return try body() }
        let saved = try current()
        try set(initial, property: "process.execCPUAffinity.initial")
        defer { try? set(saved, step: "restoring the CPU affinity", call: "sched_setaffinity()") }
        return try body()
    }
}

/// CPU and node lists as the kernel's bitmaps of 64-bit words.
enum Bitmap {
    /// At least `bits` bits (rounded up to whole words), more if a range needs them.
    static func words(_ ranges: [ClosedRange<Int>], bits: Int = 64) -> [UInt64] {
        let highest = ranges.map(\.upperBound).max() ?? 0
        var out = [UInt64](repeating: 0, count: (max(bits, highest + 1, 1) + 63) / 64)
        for r in ranges {
            for i in r { out[i / 64] |= UInt64(1) << UInt64(i % 64) }
        }
        return out
    }
}
