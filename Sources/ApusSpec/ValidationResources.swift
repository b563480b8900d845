extension Validator {
    mutating func checkResources(_ r: Resources, _ at: JSONPath) {
        for (i, rule) in (r.devices ?? []).enumerated() { checkDeviceRule(rule, at.key("devices").index(i)) }
        if let m = r.memory { checkMemory(m, at.key("memory")) }
        if let c = r.cpu { checkCPU(c, at.key("cpu")) }
        if let b = r.blockIO { checkBlockIO(b, at.key("blockIO")) }
        for (i, h) in (r.hugepageLimits ?? []).enumerated() where !Validator.isPageSize(h.pageSize) {
            fail(at.key("hugepageLimits").index(i).key("pageSize"), "invalid page size \(quoted(h.pageSize)) (want e.g. \"2MB\")")
        }
        for (name, entry) in (r.rdma ?? [:]).sorted(by: { $0.key < $1.key })
        where entry.hcaHandles == nil && entry.hcaObjects == nil {
            fail(at.key("rdma").key(name), "must set hcaHandles or hcaObjects")
        }
        for key in (r.unified ?? [:]).keys.sorted() {
            // A key names a file in the container's cgroup directory, nothing else.
            if key.contains("/") || (key.firstIndex(of: ".").map { $0 == key.startIndex } ?? true) {
                fail(at.key("unified").key(key), "must be a cgroup file name like \"memory.max\"")
            }
        }
    }

    /// Weights are 10...1000 (the kernel's blkio range), 0 meaning unset.
    private mutating func checkBlockIO(_ b: BlockIOResources, _ at: JSONPath) {
        func weight(_ w: UInt16?, _ path: JSONPath) {
            if let w, w != 0, !(10...1000).contains(w) { fail(path, "\(w) is out of range (10...1000, 0 for unset)") }
        }
        weight(b.weight, at.key("weight"))
        weight(b.leafWeight, at.key("leafWeight"))
        for (i, w) in (b.weightDevice ?? []).enumerated() {
            if w.weight == nil && w.leafWeight == nil { fail(at.key("weightDevice").index(i), "must set weight or leafWeight") }
            weight(w.weight, at.key("weightDevice").index(i).key("weight"))
            weight(w.leafWeight, at.key("weightDevice").index(i).key("leafWeight"))
        }
    }

    private mutating func checkDeviceRule(_ rule: DeviceCgroupRule, _ at: JSONPath) {
        if let type = rule.type, !["a", "b", "c"].contains(type) {
            fail(at.key("type"), "unknown device type \(quoted(type)) (want a, b or c)")
        }
        if let access = rule.access, !access.allSatisfy({ "rwm".contains($0) }) {
            fail(at.key("access"), "invalid access \(quoted(access)) (want a combination of r, w and m)")
        }
    }

    private mutating func checkMemory(_ m: MemoryResources, _ at: JSONPath) {
        for (key, value) in [("limit", m.limit), ("reservation", m.reservation), ("swap", m.swap)] {
            if let value, value < -1 { fail(at.key(key), "\(value) is invalid (want -1 or a non-negative value)") }
        }
        // `swap` is memory+swap, so it cannot be below the memory limit
        // (runc refuses this on cgroup v2, the kernel on v1).
        if let limit = m.limit, let swap = m.swap, limit > 0, swap > 0, swap < limit {
            fail(at.key("swap"), "memory+swap limit \(swap) is less than memory limit \(limit)")
        }
        // 2^64-1 is Go's uint64(-1): "unset", as runc reads it (dockerd may send it).
        if let s = m.swappiness, s > 100, s != UInt64.max { fail(at.key("swappiness"), "\(s) is out of range (0...100)") }
    }

    private mutating func checkCPU(_ c: CPUResources, _ at: JSONPath) {
        _ = checkList(c.cpus, "cpu", at.key("cpus"))
        _ = checkList(c.mems, "node", at.key("mems"))
        if let burst = c.burst, let quota = c.quota, quota > 0, burst > UInt64(quota) {
            fail(at.key("burst"), "\(burst) exceeds quota \(quota)")
        }
        if let idle = c.idle, idle != 0 && idle != 1 { fail(at.key("idle"), "\(idle) is out of range (0...1)") }
    }

    /// `<size><K|M|G>B` with no leading zero, as the schema's pattern.
    static func isPageSize(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count >= 3, b.last == UInt8(ascii: "B"), [UInt8(ascii: "K"), UInt8(ascii: "M"), UInt8(ascii: "G")].contains(b[b.count - 2])
        else { return false }
        let digits = b[..<(b.count - 2)]
        return digits.first != UInt8(ascii: "0") && digits.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }
}
