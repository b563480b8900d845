import ApusSpec
import CApusShim
import Glibc

/// The container's init process, from the moment the shim has put it in
/// its namespaces until it execs the user's program. Before READY, errors
/// go to `apus create` over the sync socket; after it, `create` is gone and
/// the only witness is stderr.
enum ContainerInit {
    static let PR_SET_DUMPABLE: Int32 = 4

    static func run(_ plan: LaunchPlan, sync: SyncChannel) -> Never {
        let hostPID: Int32
        let seccomp: SeccompFilter?
        do {
            (hostPID, seccomp) = try setUp(plan, sync: sync)
        } catch {
            report(error, sync: sync)
            _exit(1)
        }
        let path: String
        let env: [String]
        do {
            path = try waitForStartThenPrepareExec(plan, hostPID: hostPID)
            env = ProcessSetup.environment(plan.process, listenFDs: plan.listenFDs)
            // With no_new_privs the filter goes on last, so it need not allow apus's own setup.
            try seccomp?.load()
        } catch {
            writeStderr("apus: \(error)\n")
            _exit(1)
        }
        let err = ProcessSetup.exec(path, args: plan.process.args ?? [], env: env)
        writeStderr("apus: exec \(path): \(errnoText(err))\n")
        _exit(127)
    }

    /// Returns the init's pid in the host's pid namespace, and the seccomp
    /// filter still to load before exec (nil if none, or already loaded).
    private static func setUp(_ plan: LaunchPlan, sync: SyncChannel) throws -> (Int32, SeccompFilter?) {
        // Until exec, /proc/<init>/exe is the host's apus binary: keep other
        // processes (an `exec` into the container) from opening it.
        _ = apus_prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        // Name it in ps/top while it waits (runc shows "runc init").
        _ = "apus:init".withCString { apus_prctl(15 /* PR_SET_NAME */, UInt(bitPattern: $0), 0, 0, 0) }
        // As pid 1 of its namespace the init ignores signals it has no
        // handler for: a created container must still die on `kill` (TERM).
        for sig in [SIGTERM, SIGINT, SIGHUP] { signal(sig) { _exit(128 + $0) } }
        if setsid() < 0 && errno != EPERM { throw RuntimeError.syscall(step: "starting a session", call: "setsid()", errno: errno) }
        let spec = plan.spec
        let rootfs = Rootfs(spec: spec, bundle: plan.bundle, rootfs: plan.rootfs, noPivot: plan.noPivot,
                            inUserNamespace: !plan.namespaces.shares(.user),
                            cgroupPaths: plan.cgroupPaths, inCgroupNamespace: !plan.namespaces.shares(.cgroup))
        if plan.hasMountNamespace { try rootfs.prepare(cwd: plan.process.cwd) }
        try setHostname(spec, plan.namespaces)

        try sync.send(APUS_SYNC_HOOKS)
        // The parent answers with our pid as the host sees it, for the hooks' state.
        let hostPID = try sync.receive(expecting: APUS_SYNC_HOOKS_DONE, step: "waiting for createRuntime hooks").value
        let creating = plan.stateForHooks(status: .creating, pid: hostPID)
        try Hooks.run(.createContainer, hooks: spec.hooks, state: creating)

        if plan.hasMountNamespace {
            try rootfs.enter()
        } else {
            try check(chroot(plan.rootfs), "entering the rootfs", "chroot(\(plan.rootfs))")
            try check(chdir("/"), "entering the rootfs", "chdir(/)")
        }
        if plan.process.terminal == true { try Console.setUp(socketFD: plan.consoleSocketFD, size: plan.process.consoleSize) }
        try writeSysctls(spec)
        if plan.hasMountNamespace { try rootfs.finish() }

        let seccomp = try ProcessSetup.finalize(plan.process, seccomp: spec.linux?.seccomp,
                                                keyring: plan.noNewKeyring ? nil : "_ses.\(plan.id)",
                                                preserveFDs: plan.preserveFDs)
        try sync.send(APUS_SYNC_READY)
        sync.close()
        return (hostPID, seccomp)
    }

    /// Blocks on the exec fifo until `apus start` opens it, then runs the
    /// startContainer hooks. The fifo is opened through /proc/self/fd: the
    /// init kept only an O_PATH fd to it from before pivot_root.
    private static func waitForStartThenPrepareExec(_ plan: LaunchPlan, hostPID: Int32) throws -> String {
        let fifo = "/proc/self/fd/\(plan.fifoFD)"
        let fd = open(fifo, O_WRONLY | O_CLOEXEC)
        try check(fd, "waiting for start", "open(exec fifo)")
        var byte: UInt8 = 0x30
        try check(write(fd, &byte, 1), "waiting for start", "write(exec fifo)")
        close(fd)
        close(plan.fifoFD)
        try Hooks.run(.startContainer, hooks: plan.spec.hooks, state: plan.stateForHooks(status: .created, pid: hostPID))
        return try ProcessSetup.lookPath(plan.process.args?.first ?? "", env: plan.process.env ?? [])
    }

    private static func setHostname(_ spec: Spec, _ ns: NamespacePlan) throws {
        if let h = spec.hostname, !h.isEmpty {
            try check(sethostname(h, h.utf8.count), "setting the hostname", "sethostname(\(h))")
        }
        if let d = spec.domainname, !d.isEmpty {
            try check(setdomainname(d, d.utf8.count), "setting the domain name", "setdomainname(\(d))")
        }
    }

    private static func writeSysctls(_ spec: Spec) throws {
        for (key, value) in (spec.linux?.sysctl ?? [:]).sorted(by: { $0.key < $1.key }) {
            let path = "/proc/sys/" + key.split(separator: ".").joined(separator: "/")
            try FS.write(path, value)
        }
    }

    static func report(_ error: Error, sync: SyncChannel) {
        switch error {
        case RuntimeError.syscall(let step, let call, let err):
            _ = try? sync.send(APUS_SYNC_ERROR, value: err, text: "\(step): \(call)")
        default:
            _ = try? sync.send(APUS_SYNC_ERROR, value: 0, text: "\(error)")
        }
    }
}

func writeStderr(_ s: String) {
    var bytes = Array(s.utf8)
    _ = write(2, &bytes, bytes.count)
}

extension LaunchPlan {
    /// The OCI state as hooks see it, built in the init without a state file.
    func stateForHooks(status: ContainerStatus, pid: Int32) -> JSONValue {
        var b = ObjectBuilder()
        b.set("ociVersion", StateOutput.specVersion)
        b.set("id", id)
        b.set("status", status.rawValue)
        b.set("pid", pid)
        b.set("bundle", bundle)
        b.set("annotations", spec.annotations ?? [:])
        return b.json
    }
}
