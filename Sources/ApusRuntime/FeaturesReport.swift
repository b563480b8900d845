import ApusSpec
import CSeccomp

/// `apus features`: what this build really supports, and nothing more.
/// Grows as the runtime does (seccomp, AppArmor, ... are still missing).
public enum FeaturesReport {
    public static var current: Features {
        var f = Features(ociVersionMin: "1.0.0", ociVersionMax: Spec.version)
        f.hooks = [.prestart, .createRuntime, .createContainer, .startContainer, .poststart, .poststop].map { (k: Hooks.Kind) in k.rawValue }
        f.mountOptions = (Array(MountOptions.flagTable.keys) + Array(MountOptions.propagationTable.keys)).sorted()
        var linux = LinuxFeatures()
        linux.namespaces = NamespaceType.allCases.map { $0.rawValue }
        linux.capabilities = Capability.allCases.map { $0.rawValue }
        linux.cgroup = CgroupFeatures(v1: true, v2: true, systemd: false, systemdUser: false, rdma: false)
        linux.seccomp = SeccompFeatures(enabled: false)
        linux.apparmor = EnabledFeature(enabled: false)
        linux.selinux = EnabledFeature(enabled: false)
        linux.intelRdt = IntelRdtFeatures(enabled: false)
        linux.mountExtensions = MountExtensionsFeatures(idmap: EnabledFeature(enabled: false))
        linux.netDevices = EnabledFeature(enabled: false)
        f.linux = linux
        f.annotations = ["io.github.apus.version": "0.1.0"]
        return f
    }
}

public enum SeccompLibrary {
    public static var version: String {
        guard let v = seccomp_version() else { return "unknown" }
        return "\(v.pointee.major).\(v.pointee.minor).\(v.pointee.micro)"
    }
}
