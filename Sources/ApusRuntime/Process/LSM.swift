import ApusSpec
import Glibc

/// AppArmor and SELinux labels: `process.apparmorProfile`,
/// `process.selinuxLabel` (also `exec --apparmor`/`--process-label`) and
/// `linux.mountLabel`. Applied when the host's LSM is enabled, as runc
/// does: the AppArmor profile and the SELinux label written to the
/// process's `attr/apparmor/exec` (or `attr/exec`) just before the
/// seccomp filter and the exec, the SELinux label also to
/// `attr/keycreate` before the session keyring is made, all through the
/// verified procfs handle; the mount label is the `context=` option of the
/// new filesystems. A label for an LSM the host has not enabled is an
/// error before anything is created.
struct LSM {
    var apparmor: Bool
    var selinux: Bool

    /// The host's LSMs, detected as runc does: AppArmor by its securityfs
    /// directory and module parameter, SELinux by a mounted selinuxfs.
    static var host: LSM {
        let aa = FS.exists("/sys/kernel/security/apparmor")
            && ((try? FS.read("/sys/module/apparmor/parameters/enabled", limit: 16))?.first == UInt8(ascii: "Y"))
        let se = MountEntry.current().contains { $0.fsType == "selinuxfs" }
        return LSM(apparmor: aa, selinux: se)
    }

    /// The labels of `p` (at `path`) this host cannot apply.
    func problems(_ p: Process, at path: JSONPath) -> [SpecError] {
        var out: [SpecError] = []
        if !(p.apparmorProfile ?? "").isEmpty && !apparmor {
            out.append(SpecError(Self.noAppArmor, at: path.key("apparmorProfile")))
        }
        if !(p.selinuxLabel ?? "").isEmpty && !selinux {
            out.append(SpecError(Self.noSELinux("selinux label"), at: path.key("selinuxLabel")))
        }
        return out
    }

    func problems(mountLabel: String?) -> [RuntimeError] {
        guard !(mountLabel ?? "").isEmpty, !selinux else { return [] }
        return [.unsupported(path: "linux.mountLabel", reason: Self.noSELinux("mount label"))]
    }

    static let noAppArmor = "apparmor profile is specified in config, but apparmor is not enabled on this host"
    static func noSELinux(_ what: String) -> String { "\(what) is specified in config, but selinux is disabled or not supported" }

    // MARK: applying (in the container process)

    /// Writes `text` to the caller's `attr/<name>` (a path below its /proc/<pid>).
    typealias AttrWriter = (_ name: String, _ text: String) throws -> Void

    /// The caller's attr files through `proc` (a fresh handle when nil).
    static func procWriter(_ proc: ProcFS?) -> AttrWriter {
        { name, text in
            let handle = try proc ?? ProcFS.open()
            defer { if proc == nil { handle.close() } }
            try handle.write(try handle.selfPath("attr/" + name), text)
        }
    }

    /// SELinux: keys the process creates (its session keyring) get its label.
    static func applyKeyCreate(_ p: Process, write: AttrWriter) throws {
        guard let label = p.selinuxLabel, !label.isEmpty else { return }
        try write("keycreate", label)
    }

    /// The labels the next execve switches to.
    static func applyExec(_ p: Process, write: AttrWriter) throws {
        if let profile = p.apparmorProfile, !profile.isEmpty {
            // The stacking-aware file first (Linux 5.1+), the shared one before that.
            do { try write("apparmor/exec", "exec " + profile) } catch RuntimeError.syscall(_, _, let err) where err == ENOENT {
                try write("exec", "exec " + profile)
            }
        }
        if let label = p.selinuxLabel, !label.isEmpty { try write("exec", label) }
    }

    /// The fsconfig data a new filesystem of `type` gets for the mount
    /// label (none for those that take no context: proc, sysfs, cgroups, mqueue).
    static func mountData(_ label: String?, type: String) -> [String] {
        guard let label, !label.isEmpty, !["proc", "sysfs", "cgroup", "cgroup2", "mqueue"].contains(type) else { return [] }
        return ["context=\(label)"]
    }
}
