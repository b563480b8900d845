import ApusSpec

/// `apus update`'s rules, as runc's: a 0 (or "", or an empty list) is "not
/// given" and leaves the value in force alone; what is given replaces the
/// stored value (per device, page size, interface, rdma device or unified
/// key in the lists and maps).
public enum ResourceUpdate {
    /// `r` without the values that mean "unchanged".
    public static func given(_ r: Resources) -> Resources {
        var g = Resources()
        g.devices = nonEmpty(r.devices)
        if var m = r.memory {
            for k in [\MemoryResources.limit, \.reservation, \.swap, \.kernel, \.kernelTCP] where m[keyPath: k] == 0 { m[keyPath: k] = nil }
            g.memory = m == MemoryResources() ? nil : m
        }
        if var c = r.cpu {
            for k in [\CPUResources.shares, \.period, \.realtimePeriod] where c[keyPath: k] == 0 { c[keyPath: k] = nil }
            for k in [\CPUResources.quota, \.realtimeRuntime] where c[keyPath: k] == 0 { c[keyPath: k] = nil }
            if c.cpus == "" { c.cpus = nil }
            if c.mems == "" { c.mems = nil }
            g.cpu = c == CPUResources() ? nil : c
        }
        g.pids = r.pids.flatMap { $0.limit == 0 ? nil : $0 }
        if var b = r.blockIO {
            if b.weight == 0 { b.weight = nil }
            if b.leafWeight == 0 { b.leafWeight = nil }
            b.weightDevice = nonEmpty(b.weightDevice)
            b.throttleReadBpsDevice = nonEmpty(b.throttleReadBpsDevice)
            b.throttleWriteBpsDevice = nonEmpty(b.throttleWriteBpsDevice)
            b.throttleReadIOPSDevice = nonEmpty(b.throttleReadIOPSDevice)
            b.throttleWriteIOPSDevice = nonEmpty(b.throttleWriteIOPSDevice)
            g.blockIO = b == BlockIOResources() ? nil : b
        }
        g.hugepageLimits = nonEmpty(r.hugepageLimits)
        if var n = r.network {
            n.priorities = nonEmpty(n.priorities)
            g.network = n == NetworkResources() ? nil : n
        }
        g.rdma = r.rdma.flatMap { $0.isEmpty ? nil : $0 }
        g.unified = r.unified.flatMap { $0.isEmpty ? nil : $0 }
        return g
    }

    /// The stored resources with `g` (from `given`) in force.
    public static func merge(_ stored: Resources?, _ g: Resources) -> Resources {
        var s = stored ?? Resources()
        if let d = g.devices { s.devices = d }
        if let m = g.memory {
            s.memory = overlay(s.memory, m)
            // runc: unlimited memory with swap not given is unlimited swap too.
            if m.limit == -1, m.swap == nil, s.memory?.swap != nil { s.memory?.swap = -1 }
        }
        if let c = g.cpu { s.cpu = overlay(s.cpu, c) }
        if let p = g.pids { s.pids = p }
        if let b = g.blockIO {
            var o = overlay(s.blockIO, BlockIOResources(weight: b.weight, leafWeight: b.leafWeight))
            o.weightDevice = merged(o.weightDevice, b.weightDevice) { "\($0.major):\($0.minor)" }
            o.throttleReadBpsDevice = merged(o.throttleReadBpsDevice, b.throttleReadBpsDevice) { "\($0.major):\($0.minor)" }
            o.throttleWriteBpsDevice = merged(o.throttleWriteBpsDevice, b.throttleWriteBpsDevice) { "\($0.major):\($0.minor)" }
            o.throttleReadIOPSDevice = merged(o.throttleReadIOPSDevice, b.throttleReadIOPSDevice) { "\($0.major):\($0.minor)" }
            o.throttleWriteIOPSDevice = merged(o.throttleWriteIOPSDevice, b.throttleWriteIOPSDevice) { "\($0.major):\($0.minor)" }
            s.blockIO = o
        }
        s.hugepageLimits = merged(s.hugepageLimits, g.hugepageLimits) { $0.pageSize }
        if let n = g.network {
            var o = s.network ?? NetworkResources()
            o.classID = n.classID ?? o.classID
            o.priorities = merged(o.priorities, n.priorities) { $0.name }
            s.network = o
        }
        if let r = g.rdma { s.rdma = (s.rdma ?? [:]).merging(r) { $1 } }
        if let u = g.unified { s.unified = (s.unified ?? [:]).merging(u) { $1 } }
        return s
    }

    /// What to write for `g`: the given values, plus the partners a
    /// conversion needs from `merged` (memory with swap, quota with period:
    /// v2 writes them as one), so the files end up equal to `merged`.
    static func toApply(_ g: Resources, merged: Resources) -> Resources {
        var w = g
        w.devices = nil
        if var m = w.memory, m.limit != nil || m.swap != nil {
            m.limit = m.limit ?? merged.memory?.limit
            // An unlimited memory with swap not given: the plan makes swap
            // unlimited too where the kernel accounts it (runc's rule).
            m.swap = m.swap ?? (m.limit == -1 ? nil : merged.memory?.swap)
            w.memory = m
        }
        if var c = w.cpu, c.quota != nil || c.period != nil {
            c.quota = c.quota ?? merged.cpu?.quota
            c.period = c.period ?? merged.cpu?.period
            w.cpu = c
        }
        return w
    }

    /// `old` with every member `new` has replaced (`new` holds only given values).
    private static func overlay<T: JSONCodable>(_ old: T?, _ new: T) -> T {
        guard let old, case .object(var o) = old.json, case .object(let n) = new.json else { return new }
        for m in n.members { o[m.key] = m.value }
        return (try? T(json: .object(o), path: .root)) ?? new
    }

    private static func nonEmpty<T>(_ list: [T]?) -> [T]? { list.flatMap { $0.isEmpty ? nil : $0 } }

    /// `old` with each entry of `new` replacing the one of the same key, or appended.
    private static func merged<T>(_ old: [T]?, _ new: [T]?, key: (T) -> String) -> [T]? {
        guard let new else { return old }
        var out = old ?? []
        for entry in new {
            if let i = out.firstIndex(where: { key($0) == key(entry) }) { out[i] = entry } else { out.append(entry) }
        }
        return out
    }
}
