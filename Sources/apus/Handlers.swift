import ApusCLI
import ApusRuntime
import ApusSpec
import CApusShim
import Glibc

/// What each implemented subcommand does: translate flags into a runtime
/// call and print the result the way runc does.
enum Handlers {
    static func createOptions(_ inv: Invocation) throws -> CreateOptions {
        var o = CreateOptions()
        o.systemdCgroup = inv.global.systemdCgroup
        o.bundle = inv.flags.string("bundle") ?? "."
        o.consoleSocket = inv.flags.string("console-socket")
        o.pidFile = inv.flags.string("pid-file")
        o.noPivot = inv.flags.bool("no-pivot")
        o.noNewKeyring = inv.flags.bool("no-new-keyring")
        if let n = try inv.flags.int("preserve-fds") {
            guard n >= 0 && n < 65536 else { throw RuntimeError.usage("--preserve-fds must be between 0 and 65535") }
            o.preserveFDs = Int32(n)
        }
        return o
    }

    static func create(_ inv: Invocation) throws -> Int32 {
        try SealedExecutable.ensure()
        try inv.runtime.create(id: inv.args[0], options: createOptions(inv))
        return 0
    }

    static func start(_ inv: Invocation) throws -> Int32 {
        try inv.runtime.start(id: inv.args[0])
        return 0
    }

    static func run(_ inv: Invocation) throws -> Int32 {
        try SealedExecutable.ensure()
        return try inv.runtime.run(id: inv.args[0], options: createOptions(inv), detach: inv.flags.bool("detach"),
                            keep: inv.flags.bool("keep"), subreaper: !inv.flags.bool("no-subreaper"))
    }

    static func state(_ inv: Invocation) throws -> Int32 {
        // runc prints no trailing newline; callers parse the bytes as they are.
        Output.stdout(JSONWriter.indented(try inv.runtime.state(id: inv.args[0])))
        return 0
    }

    static func kill(_ inv: Invocation) throws -> Int32 {
        let signal = try Signals.parse(inv.args.count > 1 ? inv.args[1] : "SIGTERM")
        try inv.runtime.kill(id: inv.args[0], signal: signal, all: inv.flags.bool("all"))
        return 0
    }

    static func delete(_ inv: Invocation) throws -> Int32 {
        try inv.runtime.delete(id: inv.args[0], force: inv.flags.bool("force"))
        return 0
    }

    static func list(_ inv: Invocation) throws -> Int32 {
        let format = inv.flags.string("format") ?? "table"
        let items = try inv.runtime.list { id, error in Output.stderr("apus: load container \(id): \(error)\n") }
        if inv.flags.bool("quiet") {
            Output.stdout(items.map { $0.record.id + "\n" }.joined())
            return 0
        }
        switch format {
        case "json":
            let states = items.map { item -> JSONValue in
                var record = item.record
                record.owner = owner(of: item.record)
                return StateOutput.runcState(record, status: item.status)
            }
            Output.stdout((states.isEmpty ? "null" : JSONWriter.compact(.array(states))) + "\n")
        case "table":
            var rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]]
            for s in items {
                let pid = s.status == .stopped ? 0 : s.record.pid
                rows.append([s.record.id, String(pid), s.status.rawValue, s.record.bundle, s.record.created, owner(of: s.record)])
            }
            Output.stdout(Output.table(rows))
        default:
            throw RuntimeError.usage("invalid format option")
        }
        return 0
    }

    static func exec(_ inv: Invocation) throws -> Int32 {
        try SealedExecutable.ensure()
        let f = inv.flags
        var o = ExecOptions()
        o.processFile = f.string("process")
        o.consoleSocket = f.string("console-socket")
        o.pidFile = f.string("pid-file")
        o.detach = f.bool("detach")
        o.ignorePaused = f.bool("ignore-paused")
        o.subCgroups = f.strings("cgroup")
        if let n = try f.int("preserve-fds") {
            guard n >= 0 && n < 65536 else { throw RuntimeError.usage("--preserve-fds must be between 0 and 65535") }
            o.preserveFDs = Int32(n)
        }
        o.overrides.args = Array(inv.args.dropFirst())
        o.overrides.env = f.strings("env")
        o.overrides.cwd = f.string("cwd")
        o.overrides.apparmorProfile = f.string("apparmor")
        o.overrides.processLabel = f.string("process-label")
        o.overrides.tty = f.bool("tty")
        o.overrides.user = f.string("user")
        o.overrides.additionalGids = f.strings("additional-gids")
        o.overrides.capabilities = f.strings("cap")
        o.overrides.noNewPrivileges = f.bool("no-new-privs")
        do {
            return try inv.runtime.exec(id: inv.args[0], options: o)
        } catch let e as RuntimeError {
            // runc's exit status for a failed exec (the process's own status is passed through).
            throw ExitError(message: "exec failed: \(e)", code: 255)
        }
    }

    /// runc's stream: one JSON object per line, written as each comes.
    static func events(_ inv: Invocation) throws -> Int32 {
        var interval: Int64 = 5_000_000_000
        if let text = inv.flags.string("interval") {
            guard let ns = GoDuration.parse(text) else {
                throw UsageError(message: "invalid value \"\(text)\" for flag -interval: parse error", command: "events")
            }
            interval = ns
        }
        try inv.runtime.events(id: inv.args[0], interval: interval, statsOnly: inv.flags.bool("stats")) {
            Output.stdout(JSONWriter.compact($0) + "\n")
        }
        return 0
    }

    static func pause(_ inv: Invocation) throws -> Int32 {
        try inv.runtime.pause(id: inv.args[0])
        return 0
    }

    static func resume(_ inv: Invocation) throws -> Int32 {
        try inv.runtime.resume(id: inv.args[0])
        return 0
    }

    static func ps(_ inv: Invocation) throws -> Int32 {
        switch inv.flags.string("format") ?? "table" {
        case "json":
            let pids = try inv.runtime.processes(id: inv.args[0])
            Output.stdout((pids.isEmpty ? "null" : JSONWriter.compact(.array(pids.map { .int($0) }))) + "\n")
        case "table":
            Output.stdout(try inv.runtime.processTable(id: inv.args[0], psArgs: Array(inv.args.dropFirst())))
        default:
            throw RuntimeError.usage("invalid format option")
        }
        return 0
    }

    static func spec(_ inv: Invocation) throws -> Int32 {
        let bundle = inv.flags.string("bundle") ?? "."
        if inv.flags.string("bundle") != nil && !FS.isDirectory(bundle) {
            throw RuntimeError.syscall(step: "writing the spec", call: "chdir(\(bundle))", errno: FS.exists(bundle) ? ENOTDIR : ENOENT)
        }
        let path = bundle == "." ? "config.json" : FS.join(bundle, "config.json")
        if FS.exists(path) { throw RuntimeError.other("File \(path) exists. Remove it first") }
        let spec = Spec.example(rootless: inv.flags.bool("rootless"), uid: geteuid(), gid: getegid())
        try FS.writeAtomically(path, Array(JSONWriter.indented(spec.json, indent: "\t").utf8), mode: 0o666 & ~currentUmask())
        return 0
    }

    static func check(_ inv: Invocation) throws -> Int32 {
        let format = inv.flags.string("format") ?? "text"
        guard format == "text" || format == "json" else { throw RuntimeError.usage("invalid format option") }
        let report = Check.run(bundle: inv.flags.string("bundle") ?? ".")
        Output.stdout(format == "json" ? JSONWriter.compact(report.json) + "\n" : IsolationOutput.check(report))
        return !report.errors.isEmpty || (inv.flags.bool("strict") && !report.risks.isEmpty) ? 1 : 0
    }

    static func inspect(_ inv: Invocation) throws -> Int32 {
        let format = inv.flags.string("format") ?? "table"
        guard format == "table" || format == "json" else { throw RuntimeError.usage("invalid format option") }
        let report = try inv.runtime.inspect(id: inv.args[0])
        Output.stdout(format == "json" ? JSONWriter.compact(report.json) + "\n" : IsolationOutput.inspect(report))
        return 0
    }

    static func features(_ inv: Invocation) throws -> Int32 {
        Output.stdout(JSONWriter.indented(FeaturesReport.current.json, indent: "    ") + "\n")
        return 0
    }

    /// `list` shows who owns the container (runc: the state directory's owner).
    private static func owner(of record: ContainerRecord) -> String {
        if !record.owner.isEmpty { return record.owner }
        return geteuid() == 0 ? "root" : String(geteuid())
    }

    private static func currentUmask() -> mode_t {
        let m = umask(0)
        umask(m)
        return m
    }
}
