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
        let ready: Ready
        do {
            ready = try setUp(plan, sync: sync)
        } catch {
            report(error, sync: sync)
            _exit(1)
        }
        let path: String
        do {
            path = try waitForStartThenPrepareExec(plan, ready)
            // The filter is already on (loaded before READY): the hooks run under it, as in runc.
            try Hooks.run(.startContainer, hooks: plan.spec.hooks, state: plan.stateForHooks(status: .created, pid: ready.hostPID))
        } catch {
            writeStderr("apus: \(error)\n")
            _exit(1)
        }
        let err = ProcessSetup.exec(path, args: plan.process.args ?? [], env: ready.env)
        writeStderr("apus: exec \(path): \(errnoText(err))\n")
        _exit(127)
    }

    /// What the init keeps from setUp for the wait on the exec fifo.
    struct Ready {
        /// The init's pid in the host's pid namespace (for the hooks' state).
        var hostPID: Int32
        /// The program's environment (read before the seccomp filter).
        var env: [String]
        /// The init's /proc/<pid>/fd directory in a verified procfs, opened
        /// before seccomp, to reopen the exec fifo from.
        var fdDirectory: Int32
    }

    private static func setUp(_ plan: LaunchPlan, sync: SyncChannel) throws -> Ready {
        // Nothing the caller of `apus create` holds open may reach the container.
        try ProcessSetup.closeInheritedFDs(preserved: plan.preserveFDs,
                                           keep: [sync.fd, plan.fifoFD, plan.consoleSocketFD, apus_fault_around_fd()] + plan.mountSources.fds)
        // The shim made us non-dumpable already; say it again where it is read.
        _ = apus_prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
        // Name it in ps/top while it waits (runc shows "runc init").
        _ = "apus:init".withCString { apus_prctl(15 /* PR_SET_NAME */, UInt(bitPattern: $0), 0, 0, 0) }
        // As pid 1 of its namespace the init ignores signals it has no
        // handler for: a created container must still die on `kill` (TERM).
        for sig in [SIGTERM, SIGINT, SIGHUP] { signal(sig) { _exit(128 + $0) } }
        if setsid() < 0 && errno != EPERM { throw RuntimeError.syscall(step: "starting a session", call: "setsid()", errno: errno) }
        // Taken while the host's view is still there; every /proc access of
        // the init goes through it, never through the rootfs's /proc.
        let proc = try ProcFS.open()
        defer { proc.close() }
        let spec = plan.spec
        let rootfs = Rootfs(spec: spec, rootfs: plan.rootfs, noPivot: plan.noPivot,
                            inUserNamespace: !plan.namespaces.shares(.user),
                            cgroupPaths: plan.cgroupPaths, cgroupHierarchies: plan.cgroupHierarchies,
                            inCgroupNamespace: !plan.namespaces.shares(.cgroup))
        var pending = Rootfs.Pending()
        defer { pending.close() }
        if plan.hasMountNamespace || plan.mountsInCallerNamespace {
            let sources = plan.mountSourcesInInit
                ? try MountSources.prepare(spec, bundle: plan.bundle, namespaces: plan.namespaces) : plan.mountSources
            pending = try rootfs.prepare(cwd: plan.process.cwd, sources: sources,
                                         inCallerNamespace: plan.mountsInCallerNamespace)
        }
        try setHostname(spec, plan.namespaces)

        try sync.send(APUS_SYNC_HOOKS)
        // The parent answers with our pid as the host sees it, for the hooks' state.
        let hostPID = try sync.receive(expecting: APUS_SYNC_HOOKS_DONE, step: "waiting for createRuntime hooks").value
        let creating = plan.stateForHooks(status: .creating, pid: hostPID)
        // As in runc, createContainer hooks start in the container's root.
        try check(chdir(plan.rootfs), "running createContainer hooks", "chdir(\(plan.rootfs))")
        try Hooks.run(.createContainer, hooks: spec.hooks, state: creating)

        if plan.hasMountNamespace {
            try rootfs.enter()
            ProcessSetup.reopenDevNull()
        } else {
            try check(chroot(plan.rootfs), "entering the rootfs", "chroot(\(plan.rootfs))")
            try check(chdir("/"), "entering the rootfs", "chdir(/)")
        }
        if plan.process.terminal == true {
            try Console.setUp(socketFD: plan.consoleSocketFD, size: plan.process.consoleSize,
                              bindConsole: plan.hasMountNamespace, forRelay: plan.consoleIsRelay)
        }
        try writeSysctls(spec, proc: proc)
        if plan.hasMountNamespace || plan.mountsInCallerNamespace { try rootfs.finish(&pending) }

        let fdDirectory = try proc.open(try proc.selfPath("fd"), O_RDONLY | O_DIRECTORY)
        let attributes = ProcessAttributes(process: plan.process, linux: spec.linux)
        let seccomp = try ProcessSetup.finalize(plan.process, attributes: attributes, seccomp: spec.linux?.seccomp,
                                                keyring: plan.noNewKeyring ? nil : "_ses.\(plan.id)",
                                                preserveFDs: plan.preserveFDs, proc: proc) {
            try SeccompNotify.handOver($0, sync: sync)
        }
        let env = ProcessSetup.environment(plan.process, listenFDs: plan.listenFDs)
        // With no_new_privs the filter goes on last, still before the wait
        // for start: startContainer hooks run under it (runc's order).
        try seccomp?.load()
        try SeccompNotify.handOver(seccomp, sync: sync)
        try sync.send(APUS_SYNC_READY)
        sync.close()
        return Ready(hostPID: hostPID, env: env, fdDirectory: fdDirectory)
    }

    /// Blocks on the exec fifo until `apus start` opens it, then finds the
    /// program (before seccomp and the startContainer hooks, as runc). The
    /// init kept only an O_PATH fd to the fifo from before pivot_root; it is
    /// reopened for writing through the verified procfs (openat, which any
    /// seccomp profile allows).
    private static func waitForStartThenPrepareExec(_ plan: LaunchPlan, _ ready: Ready) throws -> String {
        if plan.fifoIsSocket {
            try waitOnStartSocket(plan.fifoFD)
        } else {
            let fd = openat(ready.fdDirectory, String(plan.fifoFD), O_WRONLY | O_CLOEXEC)
            try check(fd, "waiting for start", "open(exec fifo)")
            var byte: UInt8 = 0x30
            try check(write(fd, &byte, 1), "waiting for start", "write(exec fifo)")
            close(plan.fifoFD)
        }
        // The fifo (or socket) stays open, close-on-exec, until execve:
        // `start` reads until EOF, so it returns (and runs poststart) once
        // the program runs.
        close(ready.fdDirectory)
        return try ProcessSetup.lookPath(plan.process.args?.first ?? "", env: plan.process.env ?? [])
    }

    /// `run`'s start (ExecFifo.make): one byte; EOF means `run` is gone.
    private static func waitOnStartSocket(_ fd: Int32) throws {
        var byte: UInt8 = 0
        while true {
            let n = read(fd, &byte, 1)
            if n == 1 { return }
            if n < 0 && errno == EINTR { continue }
            throw RuntimeError.syscall(step: "waiting for start", call: "read(start socket)", errno: n < 0 ? errno : EPIPE)
        }
    }

    private static func setHostname(_ spec: Spec, _ ns: NamespacePlan) throws {
        if let h = spec.hostname, !h.isEmpty {
            try check(sethostname(h, h.utf8.count), "setting the hostname", "sethostname(\(h))")
        }
        if let d = spec.domainname, !d.isEmpty {
            try check(setdomainname(d, d.utf8.count), "setting the domain name", "setdomainname(\(d))")
        }
    }

    /// Written through the init's procfs handle: the kernel picks the
    /// namespace from the writer, and no symlink or mount the rootfs or a
    /// config mount planted under /proc/sys is followed.
    private static func writeSysctls(_ spec: Spec, proc: ProcFS) throws {
        for (key, value) in (spec.linux?.sysctl ?? [:]).sorted(by: { $0.key < $1.key }) {
            try proc.write("sys/" + Sysctl.procPath(key), value)
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
