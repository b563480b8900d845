import ApusSpec

/// `apus update`: new limits for a created, running or paused container.
/// Only what is given changes (ResourceUpdate); the cgroup files are
/// written from a plan checked as a whole first, the device rules are
/// applied again, and the state directory's config.json gets the merged
/// resources so `inspect` and later updates see what is in force.
extension Runtime {
    public struct UpdateRequest {
        public var resources = Resources()
        public var l3CacheSchema: String?
        public var memBwSchema: String?
        public init() {}
    }

    public func update(id: String, _ request: UpdateRequest) throws {
        let dir = try store.open(id)
        try dir.lock()
        let record = try dir.load()
        switch record.currentStatus(dir: dir) {
        case .created, .running, .paused: break
        default: throw RuntimeError.other("container not running")
        }
        try checkIntelRdt(request)
        var spec = try savedSpec(dir)
        let given = ResourceUpdate.given(request.resources)
        let merged = ResourceUpdate.merge(spec.linux?.resources, given)
        if spec.linux == nil { spec.linux = Linux() }
        spec.linux?.resources = merged
        if let e = spec.validate().first(where: { $0.path.hasPrefix("linux.resources") }) { throw RuntimeError.config(e) }
        let toApply = ResourceUpdate.toApply(given, merged: merged)
        let plan = CgroupPlan.make(toApply, host: .live(record.cgroupPaths))
        if let first = plan.errors.first { throw first }
        for w in plan.warnings { log.warning(w) }
        if let unit = record.systemdUnit {
            // The scope's properties first, so systemd does not put the old values back.
            try SystemdCgroup.setProperties(unit: unit, resources: toApply, devices: spec.linux?.devices)
        }
        // On a unified systemd the scope's DeviceAllow/DevicePolicy are the device rules.
        if record.systemdUnit == nil || SystemdCgroup.forFiles(merged)?.devices != nil {
            try CgroupResources.reapplyDevices(merged.devices, paths: record.cgroupPaths)
        }
        try plan.run()
        try dir.replaceConfig(spec.json)
    }

    /// runc's errors where resctrl offers no CAT / MBA; elsewhere Apus has no
    /// Intel RDT support at all (linux.intelRdt is refused at create).
    private func checkIntelRdt(_ r: UpdateRequest) throws {
        let info = "/sys/fs/resctrl/info"
        if r.l3CacheSchema != nil && !FS.exists(info + "/L3") {
            throw RuntimeError.other("Intel RDT/CAT: l3 cache schema is not enabled")
        }
        if r.memBwSchema != nil && !FS.exists(info + "/MB") {
            throw RuntimeError.other("Intel RDT/MBA: memory bandwidth schema is not enabled")
        }
        if r.l3CacheSchema != nil || r.memBwSchema != nil {
            throw RuntimeError.unsupported(path: "linux.intelRdt", reason: "Intel RDT is not supported by this version of apus")
        }
    }
}
