import ApusSpec

/// linux.resources.pids: pids.max on v1 and v2 alike.
extension CgroupPlan {
    /// runc's values: 0 leaves the limit alone, a negative one is "max".
    static func pidsMax(_ limit: Int64) -> String? {
        limit == 0 ? nil : limit > 0 ? String(limit) : "max"
    }

    mutating func pids(_ p: PidsResources) {
        guard let value = Self.pidsMax(p.limit), let c = controller(v1: "pids", v2: "pids", for: "pids") else { return }
        write("pids.limit", c, "pids.max", value)
    }
}
