/// The config `apus spec` writes: runc's defaults (so existing tooling and
/// docs apply unchanged), with Apus's hostname and spec version.
extension Spec {
    public static let version = "1.2.1"

    /// The kernel files runc's default config masks (also what `apus check`
    /// and `inspect` expect a container with a /proc or /sys to mask).
    public static let defaultMaskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
    ]

    public static func example(rootless: Bool, uid: UInt32 = 0, gid: UInt32 = 0) -> Spec {
        var spec = Spec(ociVersion: version)
        let caps: [Capability] = [.CAP_AUDIT_WRITE, .CAP_KILL, .CAP_NET_BIND_SERVICE]
        var process = Process(user: User(uid: 0, gid: 0), args: ["sh"],
                              env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
                              cwd: "/")
        process.terminal = true
        process.capabilities = LinuxCapabilities(bounding: caps, effective: caps, permitted: caps, ambient: caps)
        process.rlimits = [POSIXRlimit(type: .RLIMIT_NOFILE, hard: 1024, soft: 1024)]
        process.noNewPrivileges = true
        spec.process = process
        spec.root = Root(path: "rootfs", readonly: true)
        spec.hostname = "apus"
        spec.mounts = [
            Mount(destination: "/proc", type: "proc", source: "proc"),
            Mount(destination: "/dev", type: "tmpfs", source: "tmpfs", options: ["nosuid", "strictatime", "mode=755", "size=65536k"]),
            Mount(destination: "/dev/pts", type: "devpts", source: "devpts",
                  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] + (rootless ? [] : ["gid=5"])),
            Mount(destination: "/dev/shm", type: "tmpfs", source: "shm", options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
            Mount(destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"]),
            rootless
                ? Mount(destination: "/sys", type: "none", source: "/sys", options: ["rbind", "nosuid", "noexec", "nodev", "ro"])
                : Mount(destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]),
            Mount(destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup", options: ["nosuid", "noexec", "nodev", "relatime", "ro"]),
        ]
        var linux = Linux()
        var namespaces: [NamespaceType] = [.pid, .network, .ipc, .uts, .mount]
        if rootless {
            namespaces = [.pid, .ipc, .uts, .mount, .user]
            linux.uidMappings = [IDMapping(containerID: 0, hostID: uid, size: 1)]
            linux.gidMappings = [IDMapping(containerID: 0, hostID: gid, size: 1)]
        } else {
            var resources = Resources()
            resources.devices = [DeviceCgroupRule(allow: false, access: "rwm")]
            linux.resources = resources
        }
        linux.namespaces = namespaces.map { LinuxNamespace(type: $0) }
        linux.maskedPaths = defaultMaskedPaths
        linux.readonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
        spec.linux = linux
        return spec
    }
}
