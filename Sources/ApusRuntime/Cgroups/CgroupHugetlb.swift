import ApusSpec

/// linux.resources.hugepageLimits: v1 hugetlb.<size>.limit_in_bytes, v2
/// hugetlb.<size>.max; the reservation limit (rsvd) gets the same value
/// where the kernel has it, as runc 1.2 and crun do.
enum HugeTLB {
    /// 2048 → "2MB", 1048576 → "1GB", 64 → "64KB", 1536 → "1.5MB": runc's
    /// names (Go's %g of the size in the largest unit), used for the cgroup
    /// files and the stats alike.
    static func pageSizeName(kilobytes kb: UInt64) -> String {
        let units = ["KB", "MB", "GB", "TB", "PB"]
        var value = Double(kb), unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let text = value == value.rounded() ? String(UInt64(value)) : String(value)
        return text + units[unit]
    }

    static func files(pageSize: String, v2: Bool) -> (limit: String, rsvd: String) {
        v2 ? ("hugetlb.\(pageSize).max", "hugetlb.\(pageSize).rsvd.max")
            : ("hugetlb.\(pageSize).limit_in_bytes", "hugetlb.\(pageSize).rsvd.limit_in_bytes")
    }
}

extension CgroupPlan {
    mutating func hugetlb(_ limits: [HugepageLimit]) {
        guard let c = controller(v1: "hugetlb", v2: "hugetlb", for: "hugepageLimits") else { return }
        let sizes = host.hugePageSizes()
        for (i, h) in limits.enumerated() {
            guard sizes.contains(h.pageSize) else {
                fail("hugepageLimits[\(i)].pageSize", "this host has no \(h.pageSize) huge pages (it has: \(sizes.joined(separator: ", ")))")
                continue
            }
            let f = HugeTLB.files(pageSize: h.pageSize, v2: c.v2)
            write("hugepageLimits[\(i)].limit", c, f.limit, String(h.limit))
            if host.exists(c.dir + "/" + f.rsvd) { write("hugepageLimits[\(i)].limit", c, f.rsvd, String(h.limit)) }
        }
    }
}
