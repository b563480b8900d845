import ApusCLI
import ApusRuntime

/// `checkpoint` and `restore`: runc's flags into the runtime's options.
enum CheckpointHandlers {
    static func criuOptions(_ inv: Invocation) throws -> CheckpointOptions {
        let f = inv.flags
        var o = CheckpointOptions()
        o.criu = inv.global.criu
        o.imagePath = f.string("image-path") ?? ""
        o.workPath = f.string("work-path") ?? ""
        o.parentPath = f.string("parent-path")
        o.leaveRunning = f.bool("leave-running")
        o.tcpEstablished = f.bool("tcp-established")
        o.extUnixSk = f.bool("ext-unix-sk")
        o.shellJob = f.bool("shell-job")
        o.fileLocks = f.bool("file-locks")
        o.preDump = f.bool("pre-dump")
        o.lazyPages = f.bool("lazy-pages")
        o.autoDedup = f.bool("auto-dedup")
        o.manageCgroupsMode = f.string("manage-cgroups-mode")
        o.emptyNamespaces = f.strings("empty-ns")
        if let n = try f.int("status-fd") {
            guard n >= 0 && n <= Int(Int32.max) else { throw RuntimeError.usage("invalid --status-fd: \(n)") }
            o.statusFD = Int32(n)
        }
        if let ps = f.string("page-server") {
            guard let colon = ps.lastIndex(of: ":"), let port = Int32(ps[ps.index(after: colon)...]), port > 0 else {
                throw RuntimeError.usage("invalid --page-server: \(ps) (want ADDRESS:PORT)")
            }
            o.pageServer = (String(ps[..<colon]), port)
        }
        return o
    }

    static func checkpoint(_ inv: Invocation) throws -> Int32 {
        try inv.runtime.checkpoint(id: inv.args[0], options: criuOptions(inv))
        return 0
    }

    static func restore(_ inv: Invocation) throws -> Int32 {
        var o = RestoreOptions()
        o.checkpoint = try criuOptions(inv)
        o.create.bundle = inv.flags.string("bundle") ?? "."
        o.create.pidFile = inv.flags.string("pid-file")
        o.create.consoleSocket = inv.flags.string("console-socket")
        o.create.noPivot = inv.flags.bool("no-pivot")
        o.detach = inv.flags.bool("detach")
        o.subreaper = !inv.flags.bool("no-subreaper")
        // As runc: an empty value is no value; the rest is CRIU's to parse.
        o.lsmProfile = inv.flags.string("lsm-profile").flatMap { $0.isEmpty ? nil : $0 }
        o.lsmMountContext = inv.flags.string("lsm-mount-context").flatMap { $0.isEmpty ? nil : $0 }
        return try inv.runtime.restore(id: inv.args[0], options: o)
    }
}
