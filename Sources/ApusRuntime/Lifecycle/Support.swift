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
        let p = spec.process
        reject("process.apparmorProfile", !(p?.apparmorProfile ?? "").isEmpty, "AppArmor is not supported by this version of apus")
        reject("process.selinuxLabel", !(p?.selinuxLabel ?? "").isEmpty, "SELinux is not supported by this version of apus")
        reject("process.scheduler", p?.scheduler != nil)
        reject("process.ioPriority", p?.ioPriority != nil)
        reject("process.execCPUAffinity", p?.execCPUAffinity != nil)
        let l = spec.linux
        reject("linux.mountLabel", !(l?.mountLabel ?? "").isEmpty, "SELinux is not supported by this version of apus")
        if let s = l?.seccomp { out += SeccompFilter.unsupported(s) }
        reject("linux.intelRdt", l?.intelRdt != nil)
        reject("linux.personality", l?.personality != nil)
        reject("linux.memoryPolicy", l?.memoryPolicy != nil)
        reject("linux.netDevices", !(l?.netDevices ?? [:]).isEmpty)
        for (i, m) in (spec.mounts ?? []).enumerated() {
            reject("mounts[\(i)].uidMappings", m.uidMappings != nil || m.gidMappings != nil, "id-mapped mounts are not supported by this version of apus")
        }
        // Namespace paths must exist and be of their type, and no namespaced
        // sysctl may target a namespace that is apus's own (the host's).
        out += spec.validateNamespacePaths().map { RuntimeError.config($0) }
        let ns = NamespacePlan(spec)
        reject("mounts", ns.shares(.mount) && !(spec.mounts ?? []).isEmpty,
               "mounts need a new mount namespace (add {\"type\": \"mount\"} to linux.namespaces)")
        return out
    }
}
