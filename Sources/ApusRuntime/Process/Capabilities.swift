import ApusSpec
import CApusShim
import Glibc

/// Applies `process.capabilities`: the bounding set is trimmed before the
/// uid change, the other sets after it (keep-caps bridges the two). An
/// absent `capabilities` (or an absent set in it) means an empty set, as in
/// runc: the runtime's own privileges never leak into the container.
enum Capabilities {
    static let version3: UInt32 = 0x2008_0522
    static let PR_CAPBSET_READ: Int32 = 23
    static let PR_CAPBSET_DROP: Int32 = 24
    static let PR_SET_KEEPCAPS: Int32 = 8
    static let PR_CAP_AMBIENT: Int32 = 47
    static let PR_CAP_AMBIENT_RAISE: UInt = 2
    static let PR_CAP_AMBIENT_CLEAR_ALL: UInt = 4

    /// The highest capability this kernel knows, asked of the kernel itself
    /// (PR_CAPBSET_READ) rather than of a /proc file the rootfs could fake.
    /// Read before any privilege is dropped.
    static func lastCap() throws -> Int32 {
        let last = apus_probe_last_cap()
        guard last >= 0 else { throw RuntimeError.syscall(step: "capabilities", call: "prctl(PR_CAPBSET_READ)", errno: errno) }
        return last
    }

    /// The caller's bounding set: what it can give a container.
    static func bounding() -> Set<Capability> {
        Set(Capability.allCases.filter { apus_prctl(PR_CAPBSET_READ, UInt($0.number), 0, 0, 0) == 1 })
    }

    static func dropBounding(_ caps: LinuxCapabilities?, lastCap: Int32) throws {
        let keep = Set((caps?.bounding ?? []).map { $0.number })
        for cap in 0...lastCap where !keep.contains(cap) {
            if apus_prctl(PR_CAPBSET_DROP, UInt(cap), 0, 0, 0) < 0 && errno != EINVAL {
                throw RuntimeError.syscall(step: "dropping capabilities", call: "prctl(PR_CAPBSET_DROP, \(cap))", errno: errno)
            }
        }
    }

    static func setKeepCaps(_ on: Bool) throws {
        try check(apus_prctl(PR_SET_KEEPCAPS, on ? 1 : 0, 0, 0, 0), "setting keep-caps", "prctl(PR_SET_KEEPCAPS)")
    }

    /// Why `cap` cannot be given to a container (`create`, `apus check`).
    static func notGrantable(_ cap: Capability) -> String {
        "\(cap.rawValue) cannot be granted: the caller of apus does not have it in its bounding set"
    }

    /// After capset(2) refused: the first capability of the effective,
    /// permitted or inheritable set that this process does not hold (the
    /// host's bounding set withholds it from apus), named by its JSON path,
    /// as `apus check` names it.
    static func notHeld(_ caps: LinuxCapabilities?) -> RuntimeError? {
        var held: [UInt32] = [0, 0]
        guard apus_capget_permitted(version3, &held) == 0 else { return nil }
        let sets: [(String, [Capability]?)] = [("effective", caps?.effective), ("permitted", caps?.permitted),
                                               ("inheritable", caps?.inheritable)]
        for (name, list) in sets {
            for (i, cap) in (list ?? []).enumerated() where held[Int(cap.number / 32)] & (1 << UInt32(cap.number % 32)) == 0 {
                return .unsupported(path: "process.capabilities.\(name)[\(i)]",
                                    reason: notGrantable(cap))
            }
        }
        return nil
    }

    static func apply(_ caps: LinuxCapabilities?) throws {
        func mask(_ list: [Capability]?) -> [UInt32] {
            var m: [UInt32] = [0, 0]
            for c in list ?? [] { m[Int(c.number / 32)] |= 1 << UInt32(c.number % 32) }
            return m
        }
        let e = mask(caps?.effective), p = mask(caps?.permitted), i = mask(caps?.inheritable)
        if apus_capset(version3, e, p, i) < 0 {
            let err = errno
            if err == EPERM, let refused = notHeld(caps) { throw refused }
            throw RuntimeError.syscall(step: "setting capabilities", call: "capset()", errno: err)
        }
        _ = apus_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
        // The kernel only lets a capability be ambient if it is also permitted
        // and inheritable; configs (runc's default among them) often list
        // ambient alone. Like runc, such entries have no effect.
        let raisable = Set(caps?.permitted ?? []).intersection(caps?.inheritable ?? [])
        for c in caps?.ambient ?? [] where raisable.contains(c) {
            try check(apus_prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, UInt(c.number), 0, 0),
                      "raising ambient capability", "prctl(PR_CAP_AMBIENT_RAISE, \(c.rawValue))")
        }
    }
}
