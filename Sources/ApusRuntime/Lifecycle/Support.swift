import ApusSpec
import Glibc

/// Config properties Apus decodes but does not (yet) apply. Each is an
/// error before anything is created: never silently ignored.
enum Support {
    static func check(_ spec: Spec) throws {
        if let first = problems(spec).first { throw first }
    }

    /// Every property of a valid config that this apus cannot honour on
    /// this host, in the order `create` meets them (`apus check` lists them all).
    static func problems(_ spec: Spec) -> [RuntimeError] {
        // What an unprivileged user may not ask for (nothing when root).
        var out = Rootless.problems(spec)
        func reject(_ path: String, _ present: Bool, _ reason: String = "not supported by this version of apus") {
            if present { out.append(.unsupported(path: path, reason: reason)) }
        }
        if let p = spec.process {
            out += unsupportedAll(p, at: JSONPath.root.key("process")).map { .unsupported(path: $0.path, reason: $0.message) }
        }
        let l = spec.linux
        if !(l?.mountLabel ?? "").isEmpty { out += LSM.host.problems(mountLabel: l?.mountLabel) }
        if let s = l?.seccomp { out += SeccompFilter.unsupported(s) }
        if let rdt = l?.intelRdt { out += Resctrl.problems(rdt, resctrl: Resctrl.mounted()) }
        out += NetDevices.problems(l?.netDevices)
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
        if !(p.apparmorProfile ?? "").isEmpty || !(p.selinuxLabel ?? "").isEmpty {
            out += LSM.host.problems(p, at: path)
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
