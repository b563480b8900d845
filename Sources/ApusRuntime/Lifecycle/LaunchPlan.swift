import ApusSpec
import Glibc

/// Everything `create` decides before forking, shared with the container
/// init (which inherits it in the forked memory image).
struct LaunchPlan {
    var id: String
    var spec: Spec
    var process: Process
    var bundle: String
    var rootfs: String
    var namespaces: NamespacePlan
    var cgroupPaths: [String: String]
    /// The host's cgroup hierarchies (mountinfo, read once by `create`).
    var cgroupHierarchies: [Cgroups.Hierarchy] = []
    /// With --systemd-cgroup: the scope that holds those cgroups.
    var systemdUnit: SystemdCgroup.Unit?
    var noPivot: Bool
    var noNewKeyring: Bool
    /// --preserve-fds plus LISTEN_FDS: fds 3..<3+preserveFDs pass through.
    var preserveFDs: Int32
    var listenFDs: Int32 = 0
    /// Connected console socket when process.terminal is set.
    var consoleSocketFD: Int32 = -1
    /// The console goes to apus's own relay (foreground `run`), not to a --console-socket.
    var consoleIsRelay = false
    /// O_PATH fd of the exec fifo, reopened for writing by the init; for
    /// `run`, the init's end of the start socket instead (ExecFifo.make).
    var fifoFD: Int32 = -1
    var fifoIsSocket = false
    /// The bind mounts as detached trees, made on the host side (the init moves them into place).
    var mountSources = MountSources()
    /// Rootless: the init makes them itself, in its own namespaces.
    var mountSourcesInInit = false

    /// Mount setup happens in the container's own mount namespace, created or joined.
    var hasMountNamespace: Bool { !namespaces.shares(.mount) }
    /// No mount namespace, yet mounts (or a read-only root) asked for: they
    /// are made in the caller's mount namespace, under a bind of the rootfs.
    var mountsInCallerNamespace: Bool { !hasMountNamespace && Self.mountsInCallerNamespace(spec) }

    static func mountsInCallerNamespace(_ spec: Spec) -> Bool {
        NamespacePlan(spec).shares(.mount) && (!(spec.mounts ?? []).isEmpty || spec.root?.readonly == true)
    }
}

public struct CreateOptions {
    public var bundle: String = "."
    public var consoleSocket: String?
    public var pidFile: String?
    public var noPivot = false
    public var noNewKeyring = false
    public var preserveFDs: Int32 = 0
    /// `--systemd-cgroup`: the cgroup is a transient systemd scope (SystemdDriver.swift).
    public var systemdCgroup = false

    public init() {}
}
