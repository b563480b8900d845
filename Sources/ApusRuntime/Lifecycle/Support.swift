import ApusSpec
import Glibc

/// Config properties Apus decodes but does not (yet) apply. Each is an
/// error before anything is created: never silently ignored.
enum Support {
    static func check(_ spec: Spec) throws {
        func reject(_ path: String, _ present: Bool, _ reason: String = "not supported by this version of apus") throws {
            if present { throw RuntimeError.unsupported(path: path, reason: reason) }
        }
        if geteuid() != 0 { throw RuntimeError.other("apus must be run as root (rootless containers are not supported yet)") }
        if let p = spec.process, let e = unsupported(p, at: JSONPath.root.key("process")) {
            throw RuntimeError.unsupported(path: e.path, reason: e.message)
        }
        let l = spec.linux
        try reject("linux.mountLabel", !(l?.mountLabel ?? "").isEmpty, "SELinux is not supported by this version of apus")
        if let s = l?.seccomp { try SeccompFilter.checkSupported(s) }
        try reject("linux.intelRdt", l?.intelRdt != nil)
        try reject("linux.netDevices", !(l?.netDevices ?? [:]).isEmpty)
        for (i, m) in (spec.mounts ?? []).enumerated() {
            try reject("mounts[\(i)].uidMappings", m.uidMappings != nil || m.gidMappings != nil, "id-mapped mounts are not supported by this version of apus")
        }
        // Namespace paths must exist and be of their type, and no namespaced
        // sysctl may target a namespace that is apus's own (the host's).
        if let e = spec.validateNamespacePaths().first { throw RuntimeError.config(e) }
        let ns = NamespacePlan(spec)
        if ns.shares(.mount) && !(spec.mounts ?? []).isEmpty {
            throw RuntimeError.unsupported(path: "mounts", reason: "mounts need a new mount namespace (add {\"type\": \"mount\"} to linux.namespaces)")
        }
    }

    /// The process properties Apus cannot honour, for the init's config
    /// and for `exec -p process.json` alike: the first one, or nil.
    static func unsupported(_ p: Process, at path: JSONPath) -> SpecError? {
        if !(p.apparmorProfile ?? "").isEmpty {
            return SpecError("AppArmor is not supported by this version of apus", at: path.key("apparmorProfile"))
        }
        if !(p.selinuxLabel ?? "").isEmpty {
            return SpecError("SELinux is not supported by this version of apus", at: path.key("selinuxLabel"))
        }
        // The kernel keeps a nice value only for SCHED_OTHER and SCHED_BATCH.
        if let s = p.scheduler, let nice = s.nice, nice != 0,
           [.SCHED_FIFO, .SCHED_RR, .SCHED_DEADLINE].contains(s.policy) {
            return SpecError("has no effect with \(s.policy.rawValue) (only SCHED_OTHER and SCHED_BATCH have a nice value)",
                             at: path.key("scheduler").key("nice"))
        }
        return nil
    }
}
