import ApusSpec
import Glibc

/// Config properties Apus decodes but does not (yet) apply. Each is an
/// error before anything is created: never silently ignored.
enum Support {
    static func check(_ spec: Spec) throws {
        if geteuid() != 0 { throw RuntimeError.other("apus must be run as root (rootless containers are not supported yet)") }
        if let first = problems(spec).first { throw first }
    }

    /// Every property of a valid config that this apus cannot honour on
    /// this host, in the order `create` meets them (`apus check` lists them all).
    static func problems(_ spec: Spec) -> [RuntimeError] {
        var out: [RuntimeError] = []
        func reject(_ path: String, _ present: Bool, _ reason: String = "not supported by this version of apus") {
            if present { out.append(.unsupported(path: path, reason: reason)) }
        }
        if let p = spec.process {
            out += unsupportedAll(p, at: JSONPath.root.key("process")).map { .unsupported(path: $0.path, reason: $0.message) }
        }
        let l = spec.linux
        reject("linux.mountLabel", !(l?.mountLabel ?? "").isEmpty, "SELinux is not supported by this version of apus")
        if let s = l?.seccomp { out += SeccompFilter.unsupported(s) }
        reject("linux.intelRdt", l?.intelRdt != nil)
        reject("linux.netDevices", !(l?.netDevices ?? [:]).isEmpty)
        // runc's words for it (tools match on "invalid configuration").
        reject("linux.resources.unified", !(l?.resources?.unified ?? [:]).isEmpty && Cgroups.layout(Cgroups.hierarchies()) != .v2,
               "invalid configuration: cannot use unified on cgroup v1")
        // Every option has its effect on its kind of mount, or is an error here.
        for (i, m) in (spec.mounts ?? []).enumerated() { out += MountRequest(m, index: i).problems }
        // Namespace paths must exist and be of their type, and no namespaced
        // sysctl may target a namespace that is apus's own (the host's).
        out += spec.validateNamespacePaths().map { RuntimeError.config($0) }
        let ns = NamespacePlan(spec)
        // Without a mount namespace the mounts go to the caller's (as in
        // runc), but the propagation of the caller's own mounts is left alone.
        reject("linux.rootfsPropagation", ns.shares(.mount) && !(l?.rootfsPropagation ?? "").isEmpty,
               "needs a mount namespace: apus does not change the propagation of the caller's mounts")
        return out
    }

    /// The process properties Apus cannot honour, for the init's config
    /// and for `exec -p process.json` alike: the first one, or nil.
    static func unsupported(_ p: Process, at path: JSONPath) -> SpecError? {
        unsupportedAll(p, at: path).first
    }

    static func unsupportedAll(_ p: Process, at path: JSONPath) -> [SpecError] {
        var out: [SpecError] = []
        if !(p.apparmorProfile ?? "").isEmpty {
            out.append(SpecError("AppArmor is not supported by this version of apus", at: path.key("apparmorProfile")))
        }
        if !(p.selinuxLabel ?? "").isEmpty {
            out.append(SpecError("SELinux is not supported by this version of apus", at: path.key("selinuxLabel")))
        }
        // The kernel keeps a nice value only for SCHED_OTHER and SCHED_BATCH.
        if let s = p.scheduler, let nice = s.nice, nice != 0,
           [.SCHED_FIFO, .SCHED_RR, .SCHED_DEADLINE].contains(s.policy) {
            out.append(SpecError("has no effect with \(s.policy.rawValue) (only SCHED_OTHER and SCHED_BATCH have a nice value)",
                                 at: path.key("scheduler").key("nice")))
        }
        return out
    }
}
