import ApusSpec
import CApusShim
import Glibc

/// `apus create`: everything up to a container whose init waits on the
/// exec fifo. On any failure all that was made is undone.
public struct Runtime {
    public var store: StateStore
    public var log: Logger
    /// `--rootless`: cgroups the user may not make are skipped (Rootless.swift).
    public var toleratesCgroupErrors = false

    public init(root: String, log: Logger) {
        self.store = StateStore(root: root)
        self.log = log
    }

    public func create(id: String, options: CreateOptions) throws {
        _ = try create(id: id, options: options, consoleForRun: false, forRun: false)
    }

    /// With `consoleForRun` (foreground `run` of a terminal container and no
    /// --console-socket), apus itself receives the pty master, like runc:
    /// the returned fd is its end of the internal console socket. The
    /// record and spec saved are returned too (`run` goes on with them),
    /// and with `forRun` the init waits on a socket, not the exec fifo
    /// (ExecFifo.make): the returned fd is what `run` starts it with.
    func create(id: String, options: CreateOptions, consoleForRun: Bool, forRun: Bool)
        throws -> (console: Int32, record: ContainerRecord, spec: Spec, execFifo: Int32) {
        let (spec, bundle, rootfs) = try Bundle.load(options.bundle)
        try Support.check(spec)
        // Tolerated but deprecated (a relative mount destination, ...): said, as runc does.
        for w in spec.warnings() { log.warning(w.description) }
        try KernelSupport.check()
        guard let process = spec.process else {
            throw RuntimeError.config(SpecError("required property is missing", at: JSONPath.root.key("process")))
        }
        try Console.checkSocketUse(terminal: process.terminal == true, socket: options.consoleSocket, relayed: consoleForRun)
        log.debug("create \(id): bundle \(bundle), rootfs \(rootfs)")
        try ContainerID.validate(id)
        var unit: SystemdCgroup.Unit?
        if options.systemdCgroup {
            try SystemdCgroup.checkRunning()
            unit = try SystemdCgroup.unit(cgroupsPath: spec.linux?.cgroupsPath, id: id)
            try SystemdCgroup.checkUnused(unit!)
        }
        // Read once: the init, forked from us, shows the same ones at its cgroup mount.
        let hierarchies = Cgroups.hierarchies()
        var cgroupPaths = try unit.map(SystemdCgroup.paths)
            ?? Cgroups.paths(cgroupsPath: spec.linux?.cgroupsPath, id: id, hierarchies: hierarchies)
        if toleratesCgroupErrors { cgroupPaths = try RootlessCgroups.usable(cgroupPaths, spec: spec) }
        let me = getpid()
        var intent = CreateIntent(creatorPID: me, creatorStartTime: ProcStat.read(pid: me)?.startTime ?? 0,
                                  cgroupPaths: cgroupPaths, systemdUnit: unit?.name)
        let cgroupPids = Cgroups.pids(cgroupPaths)
        intent.sharedCgroups = !cgroupPids.isEmpty
        if LaunchPlan.mountsInCallerNamespace(spec) {
            intent.callerRootfs = rootfs
            intent.callerRootfsMountBefore = CallerNamespaceMounts.mountID(rootfs)
        }
        let dir = try store.claim(id, intent: intent, config: spec.json) { stale, staleIntent in
            log.warning("container \(id): removing what a create that died half-way left behind")
            try removeHalfCreated(stale, staleIntent)
        }
        var cleanup = Cleanup(dir: dir, intent: intent)
        var internalConsole: Int32 = -1
        do {
            // No flock here: the init would inherit it across fork and hold it
            // until exec. The mkdir claim already excludes other creates, and
            // other commands ignore the container until state.json exists.
            let listening = listenFDs()
            var plan = LaunchPlan(id: id, spec: spec, process: process, bundle: bundle, rootfs: rootfs,
                                  namespaces: NamespacePlan(spec),
                                  cgroupPaths: cgroupPaths, systemdUnit: unit,
                                  noPivot: options.noPivot, noNewKeyring: options.noNewKeyring,
                                  preserveFDs: options.preserveFDs + listening)
            plan.listenFDs = listening
            plan.cgroupHierarchies = hierarchies
            // Closed once the init has its copies (or on failure).
            // Unprivileged, the bind sources are cloned by the init in its own
            // user and mount namespaces (open_tree needs CAP_SYS_ADMIN there).
            plan.mountSourcesInInit = Rootless.unprivileged
            let sources = plan.mountSourcesInInit ? MountSources()
                : try MountSources.prepare(spec, bundle: bundle, namespaces: plan.namespaces)
            defer { sources.close() }
            plan.mountSources = sources
            let startFD: Int32
            (plan.fifoFD, startFD) = try ExecFifo.make(dir, forRun: forRun)
            plan.fifoIsSocket = forRun
            cleanup.execFifo = [plan.fifoFD, startFD]
            if let path = options.consoleSocket {
                plan.consoleSocketFD = try Console.connect(path)
            } else if process.terminal == true {
                (internalConsole, plan.consoleSocketFD) = try Console.socketPair()
                plan.consoleIsRelay = true
            }
            log.debug("create \(id): namespaces new \(plan.namespaces.create.map { $0.rawValue }), joined \(plan.namespaces.join.map { $0.path }); cgroups \(plan.cgroupPaths.values.sorted())")
            try checkCgroupsUsable(plan.cgroupPaths, pids: cgroupPids)
            cleanup.removesCgroups = true
            if unit == nil {
                try Cgroups.create(plan.cgroupPaths)
                try CgroupResources.apply(spec.linux?.resources, paths: plan.cgroupPaths, log: log)
            }

            let record = try spawn(plan, dir: dir, cleanup: &cleanup)
            if let pidFile = options.pidFile {
                try FS.writeAtomically(FS.absolute(pidFile), Array(String(record.pid).utf8))
            }
            cleanup.execFifo = []
            close(plan.fifoFD)
            if plan.consoleSocketFD >= 0 { close(plan.consoleSocketFD) }
            return (internalConsole, record, spec, startFD)
        } catch {
            if internalConsole >= 0 { close(internalConsole) }
            cleanup.run()
            throw error
        }
    }

    /// Forks the init through the shim and drives the sync protocol until
    /// the init reports READY; returns the saved record.
    private func spawn(_ plan: LaunchPlan, dir: ContainerDir, cleanup: inout Cleanup) throws -> ContainerRecord {
        var spawner = Spawner(cloneFlags: plan.namespaces.cloneFlags, join: plan.namespaces.join,
                              timeOffsets: NamespacePlan.timeOffsets(plan.spec),
                              uidMappings: plan.spec.linux?.uidMappings, gidMappings: plan.spec.linux?.gidMappings,
                              cgroupPaths: plan.cgroupPaths)
        if let unit = plan.systemdUnit {
            // The scope needs a pid: stage 1's, inherited by the init it forks.
            // Cleanup stops the unit only once systemd has made it ours.
            let started = cleanup.startedUnit
            spawner.joinCgroups = {
                try SystemdCgroup.start(unit, id: plan.id, pid: $0, spec: plan.spec, paths: plan.cgroupPaths) { started.name = unit.name }
            }
        }
        let parentEnd = try spawner.spawn(&cleanup.children) { ContainerInit.run(plan, sync: $0) }
        defer { parentEnd.close() }
        let pid = cleanup.children.pid
        if cleanup.intent.sharedCgroups {
            // Whose it is in the shared cgroups, should this create die now.
            cleanup.intent.initPID = pid
            cleanup.intent.initStartTime = ProcStat.read(pid: pid)?.startTime
            try dir.saveIntent(cleanup.intent, config: plan.spec.json)
        }

        var record = ContainerRecord(id: plan.id, bundle: plan.bundle, rootfs: plan.rootfs,
                                     created: Timestamp.now(), annotations: plan.spec.annotations)
        record.pid = pid
        record.pidStartTime = ProcStat.read(pid: pid)?.startTime ?? 0
        record.cgroupPaths = plan.cgroupPaths
        record.systemdUnit = plan.systemdUnit?.name
        record.hasPoststopHooks = !(plan.spec.hooks?.poststop ?? []).isEmpty
        if plan.namespaces.create.contains(.pid) { record.pidNamespace = Cgroups.pidNamespace(of: pid) }
        for t in NamespaceType.allCases where !plan.namespaces.shares(t) {
            record.namespacePaths[t.procName] = "/proc/\(pid)/ns/\(t.procName)"
        }

        _ = try parentEnd.receive(expecting: APUS_SYNC_HOOKS, step: "setting up the rootfs")
        try NetDevices.move(plan.spec.linux?.netDevices, intoNamespaceOf: pid)
        if let rdt = plan.spec.linux?.intelRdt {
            guard let resctrl = Resctrl.mounted() else { throw Resctrl.problems(rdt, resctrl: nil)[0] }
            cleanup.intelRdt = (resctrl, rdt)
            try resctrl.apply(rdt, id: plan.id, pid: pid)
        }
        let state = StateOutput.oci(record, status: .creating)
        try Hooks.run(.prestart, hooks: plan.spec.hooks, state: state)
        try Hooks.run(.createRuntime, hooks: plan.spec.hooks, state: state)
        try parentEnd.send(APUS_SYNC_HOOKS_DONE, value: pid)
        let agent = SeccompNotify.Agent(plan.spec.linux?.seccomp, pid: pid,
                                        state: StateOutput.ociState(record, status: .creating))
        _ = try SeccompNotify.receive(parentEnd, until: APUS_SYNC_READY, step: "setting up the container", agent: agent)
        if plan.mountsInCallerNamespace { record.callerRootfsMount = CallerNamespaceMounts.mountID(plan.rootfs) }
        log.debug("create \(plan.id): init \(pid) ready, waiting on the exec fifo")
        try dir.save(record)
        return record
    }

    /// A cgroupsPath shared with a paused container would freeze our init
    /// mid-setup and hang create: refuse it, as runc does. Joining one that
    /// already has processes works, with runc's warning.
    private func checkCgroupsUsable(_ paths: [String: String], pids: [Int32]) throws {
        if Cgroups.isFrozen(paths: paths) { throw RuntimeError.other("container's cgroup unexpectedly frozen") }
        if !pids.isEmpty { log.warning("container's cgroup is not empty: \(pids.count) process(es) found") }
    }

    /// systemd socket activation: LISTEN_FDS fds after stdio pass through,
    /// when they were meant for us (LISTEN_PID is our pid), as in runc.
    private func listenFDs() -> Int32 {
        guard let pid = getenv("LISTEN_PID"), Int32(String(cString: pid)) == getpid(),
              let v = getenv("LISTEN_FDS"), let n = Int32(String(cString: v)), n > 0 else { return 0 }
        return n
    }
}

/// Undoes a half-made container: kills the init (and the intermediate
/// stage), removes cgroups, mounts made in the caller's namespace and the
/// state directory.
struct Cleanup {
    let dir: ContainerDir
    var intent: CreateIntent
    var children = Spawner.Children()
    /// Set once the cgroups are being made (they may have existed before).
    var removesCgroups = false
    /// Set by the systemd driver once StartTransientUnit has made the scope.
    let startedUnit = StartedUnit()

    final class StartedUnit { var name: String? }
    var intelRdt: (Resctrl, IntelRdt)?
    /// The exec fifo's fds until create hands them on.
    var execFifo: [Int32] = []

    mutating func run() {
        for fd in execFifo where fd >= 0 { close(fd) }
        children.kill()
        if let name = startedUnit.name { try? SystemdCgroup.stop(unit: name) }
        if removesCgroups { try? intent.removeCgroups() }
        if let (resctrl, rdt) = intelRdt { resctrl.remove(rdt, id: dir.id) }
        try? intent.detachCallerMounts()
        try? dir.remove()
    }
}

extension CreateIntent {
    /// The rootfs bind a create made in the caller's mount namespace, if any.
    func detachCallerMounts() throws {
        guard let rootfs = callerRootfs, let before = callerRootfsMountBefore else { return }
        try CallerNamespaceMounts.detach(rootfs: rootfs, unlessStill: before)
    }
}
