import ApusSpec

/// linux.resources.network (v1 net_cls, net_prio; cgroup v2 has neither)
/// and linux.resources.rdma (rdma.max on v1 and v2).
extension CgroupPlan {
    mutating func network(_ n: NetworkResources) {
        if let id = n.classID {
            if let dir = host.v1("net_cls") {
                write("network.classID", CgroupController(dir: dir, v2: false), "net_cls.classid", String(id))
            } else {
                fail("network.classID", "no net_cls cgroup controller is mounted on this host (cgroup v1 only)")
            }
        }
        guard let priorities = n.priorities, !priorities.isEmpty else { return }
        guard let dir = host.v1("net_prio") else {
            fail("network.priorities", "no net_prio cgroup controller is mounted on this host (cgroup v1 only)")
            return
        }
        for (i, p) in priorities.enumerated() {
            write("network.priorities[\(i)]", CgroupController(dir: dir, v2: false), "net_prio.ifpriomap", "\(p.name) \(p.priority)")
        }
    }

    /// "mlx4_0 hca_handle=2 hca_object=2000"; an absent count is left as it is.
    static func rdmaLine(_ device: String, _ r: RdmaResource) -> String {
        var line = device
        if let h = r.hcaHandles { line += " hca_handle=\(h)" }
        if let o = r.hcaObjects { line += " hca_object=\(o)" }
        return line
    }

    mutating func rdma(_ limits: [String: RdmaResource]) {
        guard let c = controller(v1: "rdma", v2: "rdma", for: "rdma") else { return }
        for (device, r) in limits.sorted(by: { $0.key < $1.key }) {
            write("rdma.\(device)", c, "rdma.max", Self.rdmaLine(device, r))
        }
    }
}
