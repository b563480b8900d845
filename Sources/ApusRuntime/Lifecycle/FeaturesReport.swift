import ApusSpec
import CSeccomp

/// `apus features`: what this build really supports, and nothing more.
/// process.scheduler, ioPriority, execCPUAffinity and linux.personality
/// have no features entry; memoryPolicy lists every mode and flag.
public enum FeaturesReport {
    public static var current: Features {
        var f = Features(ociVersionMin: "1.0.0", ociVersionMax: Spec.version)
        f.hooks = [.prestart, .createRuntime, .createContainer, .startContainer, .poststart, .poststop].map { (k: Hooks.Kind) in k.rawValue }
        f.mountOptions = MountOptions.knownNames
        var linux = LinuxFeatures()
        linux.namespaces = NamespaceType.allCases.map { $0.rawValue }
        linux.capabilities = Capability.allCases.map { $0.rawValue }
        linux.cgroup = CgroupFeatures(v1: true, v2: true, systemd: true, systemdUser: false, rdma: true)
        linux.seccomp = seccompFeatures
        // "Compiled in", not "enabled on this host" (features.md): applied when the host has them.
        linux.apparmor = EnabledFeature(enabled: true)
        linux.selinux = EnabledFeature(enabled: true)
        linux.intelRdt = IntelRdtFeatures(enabled: true, schemata: true, monitoring: true)
        linux.memoryPolicy = MemoryPolicyFeatures(modes: MemoryPolicyMode.allCases.map(\.rawValue),
                                                  flags: MemoryPolicyFlag.allCases.map(\.rawValue))
        linux.mountExtensions = MountExtensionsFeatures(idmap: EnabledFeature(enabled: true))
        linux.netDevices = EnabledFeature(enabled: true)
        f.linux = linux
        f.annotations = ["io.github.apus.version": "0.1.0"]
        return f
    }
}

extension FeaturesReport {
    static var seccompFeatures: SeccompFeatures {
        var s = SeccompFeatures(enabled: true)
        s.actions = SeccompAction.allCases.map { $0.rawValue }
        s.operators = SeccompOperator.allCases.map { $0.rawValue }
        s.archs = SeccompArch.allCases.filter { seccomp_arch_resolve_name(SeccompFilter.archName($0)) != 0 }.map { $0.rawValue }
        // apus loads the filter with seccomp(2) itself: every flag (SeccompFilter.flags).
        s.knownFlags = SeccompFlag.allCases.map { $0.rawValue }
        s.supportedFlags = s.knownFlags
        return s
    }
}

public enum SeccompLibrary {
    public static var version: String {
        guard let v = seccomp_version() else { return "unknown" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.micro)"
    }
}
