extension Validator {
    mutating func checkProcess(_ p: Process, _ at: JSONPath) {
        let args = p.args ?? []
        if args.isEmpty { fail(at.key("args"), "must contain at least one entry") }
        if let first = args.first, first.isEmpty { fail(at.key("args").index(0), "must not be empty") }
        for (i, arg) in args.enumerated() { checkNoNUL(arg, at.key("args").index(i)) }
        checkEnv(p.env, at.key("env"))
        checkAbsolute(p.cwd, at.key("cwd"))
        if p.consoleSize != nil && p.terminal != true {
            // The spec says to ignore it, so this is not an error.
            warn(at.key("consoleSize"), "ignored because process.terminal is not true")
        }
        checkRlimits(p.rlimits ?? [], at.key("rlimits"))
        if let adj = p.oomScoreAdj, !(-1000...1000).contains(adj) {
            fail(at.key("oomScoreAdj"), "\(adj) is out of range (-1000...1000)")
        }
        if let s = p.scheduler { checkScheduler(s, at.key("scheduler")) }
        if let io = p.ioPriority, !(0...7).contains(io.priority) {
            fail(at.key("ioPriority").key("priority"), "\(io.priority) is out of range (0...7)")
        }
        if let aff = p.execCPUAffinity {
            _ = checkList(aff.initial, "cpu", at.key("execCPUAffinity").key("initial"))
            _ = checkList(aff.final, "cpu", at.key("execCPUAffinity").key("final"))
        }
    }

    /// runc rejects entries execve(2) would mangle: no "=", empty name, NUL.
    private mutating func checkEnv(_ env: [String]?, _ at: JSONPath) {
        for (i, entry) in (env ?? []).enumerated() {
            guard let eq = entry.firstIndex(of: "=") else {
                fail(at.index(i), "invalid environment variable \(quoted(entry)): missing \"=\"")
                continue
            }
            if eq == entry.startIndex { fail(at.index(i), "invalid environment variable \(quoted(entry)): empty name") }
            checkNoNUL(entry, at.index(i))
        }
    }

    private mutating func checkRlimits(_ rlimits: [POSIXRlimit], _ at: JSONPath) {
        var seen = Set<RlimitType>()
        for (i, r) in rlimits.enumerated() {
            if !seen.insert(r.type).inserted {
                fail(at.index(i).key("type"), "duplicate rlimit \(quoted(r.type.rawValue))")
            }
            // setrlimit(2) fails with EINVAL; say so before any work is done.
            if r.soft > r.hard { fail(at.index(i), "soft limit \(r.soft) exceeds hard limit \(r.hard)") }
        }
    }

    /// The checks runc makes, following sched_setattr(2).
    private mutating func checkScheduler(_ s: Scheduler, _ at: JSONPath) {
        if s.policy == .SCHED_OTHER || s.policy == .SCHED_BATCH, let nice = s.nice, !(-20...19).contains(nice) {
            fail(at.key("nice"), "\(nice) is out of range (-20...19)")
        }
        if let priority = s.priority, priority != 0, s.policy != .SCHED_FIFO && s.policy != .SCHED_RR {
            fail(at.key("priority"), "only valid with SCHED_FIFO or SCHED_RR")
        }
        if s.policy != .SCHED_DEADLINE {
            for (key, value) in [("runtime", s.runtime), ("deadline", s.deadline), ("period", s.period)] {
                if let value, value != 0 { fail(at.key(key), "only valid with SCHED_DEADLINE") }
            }
        }
        for (i, flag) in (s.flags ?? []).enumerated() where SchedulerFlag(rawValue: flag) == nil {
            fail(at.key("flags").index(i), "unknown \(SchedulerFlag.kind) \(quoted(flag))")
        }
    }
}
