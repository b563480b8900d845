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
        let p = spec.process
        try reject("process.apparmorProfile", !(p?.apparmorProfile ?? "").isEmpty, "AppArmor is not supported by this version of apus")
        try reject("process.selinuxLabel", !(p?.selinuxLabel ?? "").isEmpty, "SELinux is not supported by this version of apus")
        try reject("process.scheduler", p?.scheduler != nil)
        try reject("process.ioPriority", p?.ioPriority != nil)
        try reject("process.execCPUAffinity", p?.execCPUAffinity != nil)
        let l = spec.linux
        try reject("linux.mountLabel", !(l?.mountLabel ?? "").isEmpty, "SELinux is not supported by this version of apus")
        if let s = l?.seccomp { try SeccompFilter.checkSupported(s) }
        try reject("linux.intelRdt", l?.intelRdt != nil)
        try reject("linux.personality", l?.personality != nil)
        try reject("linux.memoryPolicy", l?.memoryPolicy != nil)
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
}
