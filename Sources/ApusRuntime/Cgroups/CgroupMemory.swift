import ApusSpec
import Glibc

/// linux.resources.memory, with runc's "0 = unset, -1 = unlimited".
extension CgroupPlan {
    /// runc's v2 swap: the spec's swap is memory+swap (v1 memsw), v2's
    /// memory.swap.max is swap alone. nil: leave it alone.
    static func swapMax(swap: Int64, limit: Int64) -> Result<String?, SwapError> {
        if limit == -1 && swap == 0 { return .success("max") }
        if swap == -1 { return .success("max") }
        if swap == 0 { return .success(nil) }
        if limit <= 0 { return .failure(.needsLimit) }
        if swap < limit { return .failure(.belowLimit) }
        return .success(String(swap - limit))
    }

    enum SwapError: Error {
        case needsLimit, belowLimit
        var reason: String {
            switch self {
            case .needsLimit: return "unable to set swap limit without memory limit"
            case .belowLimit: return "memory+swap limit should be >= memory limit"
            }
        }
    }

    /// v1 and v2 take -1 / "max" for no limit.
    static func memoryValue(_ v: Int64, v2: Bool) -> String? {
        v == 0 ? nil : v < 0 ? (v2 ? "max" : "-1") : String(v)
    }

    mutating func memory(_ m: MemoryResources) {
        var m = m
        // uint64(-1), runc's "unset" swappiness
        if m.swappiness == UInt64.max { m.swappiness = nil }
        let kernelTCP = m.kernelTCP ?? 0
        let limit = m.limit ?? 0, swap = m.swap ?? 0, reservation = m.reservation ?? 0
        let wantsV1Only = m.swappiness != nil || m.disableOOMKiller == true
        let wants = limit != 0 || swap != 0 || reservation != 0 || wantsV1Only || m.useHierarchy != nil
        let tcpFile = "memory.kmem.tcp.limit_in_bytes"
        // kernelTCP alone never fails the plan: it is warned about where it cannot be written.
        let c = wants ? controller(v1: "memory", v2: "memory", for: "memory")
            : kernelTCP != 0 ? try? host.locate(v1: "memory", v2: "memory") : nil
        let tcpHonoured = kernelTCP != 0 && c.map { !$0.v2 && host.has($0, tcpFile) } == true
        if m.kernel.map({ $0 != 0 }) == true || (kernelTCP != 0 && !tcpHonoured) {
            // As runc 1.1 and 1.2: kernel memory limits are deprecated (v1's
            // kmem limit is accepted and ignored since Linux 6.1; v2 has
            // neither); the spec calls them NOT RECOMMENDED.
            warn("Kernel memory settings are ignored and will be removed")
        }
        if tcpHonoured, let c, let v = Self.memoryValue(kernelTCP, v2: false) {
            // v1's TCP buffer limit still works: written, unlike runc.
            write("memory.kernelTCP", c, tcpFile, v)
        }
        guard wants, let c else { return }
        if c.v2 { memoryV2(m, limit: limit, swap: swap, reservation: reservation, c) } else {
            memoryV1(m, limit: limit, swap: swap, reservation: reservation, c)
        }
    }

    private mutating func memoryV1(_ m: MemoryResources, limit: Int64, swap: Int64, reservation: Int64, _ c: CgroupController) {
        let memsw = "memory.memsw.limit_in_bytes"
        var swap = swap
        // runc: an unlimited memory with swap not given makes swap unlimited too (where accounted).
        if limit == -1 && swap == 0 && host.has(c, memsw) { swap = -1 }
        var memWrites: [(String, String, String)] = []
        if let v = Self.memoryValue(limit, v2: false) { memWrites.append(("memory.limit", "memory.limit_in_bytes", v)) }
        if let v = Self.memoryValue(swap, v2: false),
           require(c, memsw, for: "memory.swap", "this kernel has no swap accounting (memory.memsw.* is missing)") {
            // The kernel keeps memsw >= limit at every step: raising both
            // writes memsw first, lowering both writes the limit first.
            let current = host.read(c.dir + "/memory.limit_in_bytes").flatMap { UInt64($0.split(separator: "\n").first ?? "") }
            let swapFirst = limit != 0 && (swap == -1 || (current ?? UInt64.max) < UInt64(swap))
            memWrites.insert(("memory.swap", memsw, v), at: swapFirst ? 0 : memWrites.count)
        }
        for (path, file, value) in memWrites { write(path, c, file, value) }
        if let v = Self.memoryValue(reservation, v2: false) { write("memory.reservation", c, "memory.soft_limit_in_bytes", v) }
        if m.disableOOMKiller == true { write("memory.disableOOMKiller", c, "memory.oom_control", "1") }
        if let s = m.swappiness, require(c, "memory.swappiness", for: "memory.swappiness", "this kernel has no memory.swappiness") {
            write("memory.swappiness", c, "memory.swappiness", String(s))
        }
        if let h = m.useHierarchy {
            // Linux 6.x is always hierarchical: the kernel refuses "0" (named then).
            if require(c, "memory.use_hierarchy", for: "memory.useHierarchy", "this kernel has no memory.use_hierarchy") {
                write("memory.useHierarchy", c, "memory.use_hierarchy", h ? "1" : "0")
            }
        }
    }

    private mutating func memoryV2(_ m: MemoryResources, limit: Int64, swap: Int64, reservation: Int64, _ c: CgroupController) {
        if m.swappiness != nil { fail("memory.swappiness", "cgroup v2 has no per-cgroup swappiness") }
        if m.disableOOMKiller == true { fail("memory.disableOOMKiller", "cgroup v2 cannot disable the OOM killer for a cgroup") }
        if m.useHierarchy == false { fail("memory.useHierarchy", "cgroup v2 is always hierarchical") }
        if m.checkBeforeUpdate == true, limit > 0,
           let usage = host.read(c.dir + "/memory.current").flatMap({ Int64($0.split(separator: "\n").first ?? "") }), limit < usage {
            fail("memory.limit", "rejecting memory limit \(limit): less than current usage \(usage) (checkBeforeUpdate)")
        }
        switch Self.swapMax(swap: swap, limit: limit) {
        case .failure(let e): fail("memory.swap", e.reason)
        case .success(let v?):
            // Without swap accounting there is nothing to lift or disable (runc).
            if host.has(c, "memory.swap.max") { write("memory.swap", c, "memory.swap.max", v) } else if v != "max" && v != "0" {
                fail("memory.swap", "this kernel has no memory.swap.max (no swap accounting)")
            }
        case .success(nil): break
        }
        if let v = Self.memoryValue(limit, v2: true) { write("memory.limit", c, "memory.max", v) }
        if let v = Self.memoryValue(reservation, v2: true) { write("memory.reservation", c, "memory.low", v) }
    }

    /// v1 refuses a limit below what the cgroup uses with EBUSY: say so, as runc.
    static func memoryLimitBusy(_ w: CgroupWrite, errno err: Int32) -> RuntimeError? {
        guard err == EBUSY, w.file.hasSuffix("/memory.limit_in_bytes") else { return nil }
        let dir = FS.dirname(w.file)
        func read(_ name: String) -> String {
            ((try? FS.readString(dir + "/" + name)) ?? "?").split(separator: "\n").first.map(String.init) ?? "?"
        }
        return .other("\(w.path): unable to set memory limit to \(w.value) (current usage: \(read("memory.usage_in_bytes")), peak usage: \(read("memory.max_usage_in_bytes")))")
    }
}
