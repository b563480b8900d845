import ApusCLI
import ApusRuntime
import ApusSpec
import Glibc

/// `apus update`: runc's flags (or a resources document with -r, which
/// makes every other flag ignored, as in runc) → Runtime.update.
extension Handlers {
    static func update(_ inv: Invocation) throws -> Int32 {
        var request = Runtime.UpdateRequest()
        if let file = inv.flags.string("resources"), !file.isEmpty {
            request.resources = try resourcesDocument(file)
        } else {
            request.resources = try resourcesFromFlags(inv.flags)
        }
        request.l3CacheSchema = inv.flags.string("l3-cache-schema").flatMap { $0.isEmpty ? nil : $0 }
        request.memBwSchema = inv.flags.string("mem-bw-schema").flatMap { $0.isEmpty ? nil : $0 }
        try inv.runtime.update(id: inv.args[0], request)
        return 0
    }

    /// -r FILE or -r - (standard input): a linux.resources object.
    private static func resourcesDocument(_ file: String) throws -> Resources {
        let name = file == "-" ? "<stdin>" : file
        do {
            let bytes = file == "-" ? try FS.readAll(STDIN_FILENO, path: name, limit: ConfigLoader.maxConfigSize)
                : try ConfigLoader.readDocument(file, file: name)
            // runc: "EOF" for an empty document
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x09 || $0 == 0x0d }) {
                throw SpecError("no resources document: the input is empty", at: .root, file: name)
            }
            return try Resources(json: JSONParser.parse(bytes), path: .root)
        } catch var e as SpecError {
            e.file = name
            throw e
        }
    }

    private static func resourcesFromFlags(_ f: ParsedFlags) throws -> Resources {
        var r = Resources()
        var memory = MemoryResources(), cpu = CPUResources()
        func number<T: FixedWidthInteger>(_ flag: String, _: T.Type) throws -> T? {
            guard let text = f.string(flag) else { return nil }
            guard let v = T(text) else {
                throw RuntimeError.usage("invalid value for \(flag): strconv.\(T.isSigned ? "ParseInt" : "ParseUint"): parsing \(quoted(text)): invalid syntax")
            }
            return v
        }
        func size(_ flag: String) throws -> Int64? {
            guard let text = f.string(flag), !text.isEmpty else { return nil }
            if text == "-1" { return -1 }
            guard let v = ByteSize.parse(text) else { throw RuntimeError.usage("invalid value for \(flag): invalid size: '\(text)'") }
            return v
        }
        memory.limit = try size("memory")
        memory.reservation = try size("memory-reservation")
        memory.swap = try size("memory-swap")
        memory.kernel = try size("kernel-memory")
        memory.kernelTCP = try size("kernel-memory-tcp")
        cpu.shares = try number("cpu-share", UInt64.self)
        cpu.quota = try number("cpu-quota", Int64.self)
        cpu.period = try number("cpu-period", UInt64.self)
        cpu.realtimeRuntime = try number("cpu-rt-runtime", Int64.self)
        cpu.realtimePeriod = try number("cpu-rt-period", UInt64.self)
        cpu.cpus = f.string("cpuset-cpus")
        cpu.mems = f.string("cpuset-mems")
        r.memory = memory
        r.cpu = cpu
        if let w = try f.int("blkio-weight") {
            guard let weight = UInt16(exactly: w) else { throw RuntimeError.usage("invalid value for blkio-weight: \(w) is out of range") }
            r.blockIO = BlockIOResources(weight: weight)
        }
        if let p = try f.int("pids-limit") { r.pids = PidsResources(limit: Int64(p)) }
        return r
    }
}
