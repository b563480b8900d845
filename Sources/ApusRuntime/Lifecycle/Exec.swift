import ApusSpec
import CApusShim
import Glibc

/// What `apus exec` flags change in the container's process config
/// (ignored when a whole process.json is given).
public struct ExecOverrides {
    public var args: [String] = []
    public var env: [String] = []
    public var cwd: String?
    public var tty = false
    /// "uid[:gid]"
    public var user: String?
    public var additionalGids: [String] = []
    public var capabilities: [String] = []
    public var noNewPrivileges = false
    /// --apparmor, --process-label
    public var apparmorProfile: String?
    public var processLabel: String?
    public init() {}
}

public struct ExecOptions {
    public var processFile: String?
    public var overrides = ExecOverrides()
    public var consoleSocket: String?
    public var pidFile: String?
    public var detach = false
    public var preserveFDs: Int32 = 0
    public var ignorePaused = false
    /// --cgroup values: "path" (every hierarchy) or "controller[,controller]:path".
    public var subCgroups: [String] = []
    public init() {}
}

extension Runtime {
    /// `apus exec`: runs a new process in a running container's namespaces
    /// and cgroups, with the container's seccomp profile. In the foreground
    /// it returns the process's exit status (128+n for signal n).
    public func exec(id: String, options: ExecOptions) throws -> Int32 {
        let dir = try store.open(id)
        let record = try dir.load()
        let status = record.currentStatus(dir: dir)
        log.debug("exec \(id): container \(status.rawValue), init \(record.pid)")
        switch status {
        case .stopped: throw RuntimeError.other("cannot exec in a stopped container")
        case .paused where !options.ignorePaused:
            throw RuntimeError.other("cannot exec in a paused container (use --ignore-paused to override)")
        default: break
        }
        try KernelSupport.check()
        let spec = try savedSpec(dir)
        let process = try execProcess(spec: spec, options: options)
        let cgroupPaths = try SubCgroups.paths(record.cgroupPaths, SubCgroups.parse(options.subCgroups))
        if process.terminal == true && options.consoleSocket == nil && options.detach {
            throw RuntimeError.usage("cannot allocate tty if apus will detach without setting console socket")
        }
        if process.terminal != true && options.consoleSocket != nil {
            throw RuntimeError.usage("cannot use console socket if apus will not detach or allocate tty")
        }

        var consoleFD: Int32 = -1, relayFD: Int32 = -1
        defer { [consoleFD, relayFD].filter { $0 >= 0 }.forEach { close($0) } }
        if let path = options.consoleSocket { consoleFD = try Console.connect(path) }
        else if process.terminal == true { (relayFD, consoleFD) = try Console.socketPair() }

        // The init's namespaces are joined through a pidfd taken, then
        // checked to be our init (start time): a pid reused since the status
        // check above cannot be joined.
        let initFD = try openInit(record)
        defer { close(initFD) }
        // Cgroups are joined by the parent once the process has reported
        // (below): in a paused container it is frozen from then on, never
        // before it could answer.
        var spawner = Spawner()
        spawner.joinPidFD = initFD
        spawner.joinFlags = record.namespacesToJoin()
        log.debug("exec \(id): joining the namespaces of init \(record.pid) (clone flags 0x\(String(spawner.joinFlags, radix: 16))), cgroups \(cgroupPaths.values.sorted())")
        var children = Spawner.Children()
        let plan = ExecPlan(process: process, attributes: ProcessAttributes(linux: spec.linux),
                            seccomp: spec.linux?.seccomp, consoleSocketFD: consoleFD,
                            consoleIsRelay: relayFD >= 0, preserveFDs: options.preserveFDs)
        do {
            // The new process starts on execCPUAffinity.initial and keeps it through the joins.
            let channel = try CPUAffinity.withInitial(process.execCPUAffinity?.initial) {
                try spawner.spawn(&children) { ExecPlan.run(plan, sync: $0) }
            }
            defer { channel.close() }
            let agent = SeccompNotify.Agent(spec.linux?.seccomp, pid: children.pid,
                                            state: StateOutput.ociState(record, status: .running))
            _ = try SeccompNotify.receive(channel, until: APUS_SYNC_READY, step: "setting up the process", agent: agent)
            try Cgroups.join(pid: children.pid, cgroupPaths)
            if let rdt = spec.linux?.intelRdt, let resctrl = Resctrl.mounted() {
                try resctrl.join(rdt, id: id, pid: children.pid)
            }
            // Where real-time policies and cpusets are checked: in its cgroups.
            try ProcessAttributes.applyToExec(process, pid: children.pid)
            try channel.send(APUS_SYNC_GO)
            log.debug("exec \(id): process \(children.pid) ready, executing \(process.args ?? [])")
            if let pidFile = options.pidFile {
                try FS.writeAtomically(FS.absolute(pidFile), Array(String(children.pid).utf8))
            }
        } catch where !record.initAlive {
            // The container stopped (a racing delete, its init exiting)
            // while the process was joining it: say so, not which step failed.
            children.kill()
            throw RuntimeError.other("cannot exec in a stopped container")
        } catch RuntimeError.initFailed(let step, let err) {
            children.kill()
            let reason = err == 0 ? step : "\(step): \(errnoText(err))"
            throw RuntimeError.other("unable to start container process: \(reason)")
        } catch {
            children.kill()
            throw error
        }
        if consoleFD >= 0 { close(consoleFD); consoleFD = -1 }
        if options.detach { return 0 }
        let relay = relayFD >= 0 ? try TerminalRelay(consoleSocket: relayFD) : nil
        defer { relay?.restore() }
        var supervisor = Supervisor(initPID: children.pid, relay: relay, cgroupPaths: cgroupPaths)
        let exitStatus = try supervisor.waitForExit()
        log.debug("exec \(id): process \(children.pid) exited, status \(exitStatus)")
        return exitStatus
    }

    /// A pidfd of the container's init, verified to be the process the
    /// record names (its start time), or the container counts as stopped
    /// (`stopped` is then the error).
    func openInit(_ record: ContainerRecord, stopped: RuntimeError = .other("cannot exec in a stopped container"),
                  step: String = "joining the container") throws -> Int32 {
        let fd = apus_pidfd_open(record.pid)
        guard fd >= 0 else {
            if errno == ESRCH { throw stopped }
            throw RuntimeError.syscall(step: step, call: "pidfd_open(\(record.pid))", errno: errno)
        }
        guard record.initAlive else {
            close(fd)
            throw stopped
        }
        return fd
    }

    /// The process to run: a whole process.json, or the container's own
    /// process with the flags applied, as runc builds it.
    func execProcess(spec: Spec, options: ExecOptions) throws -> Process {
        if let file = options.processFile {
            do {
                var p = try Process.decodeForExec(ConfigLoader.readDocument(file, file: file, isPipe: { apus_fs_magic($0) == 0x5049_5045 /* PIPEFS_MAGIC */ }), file: file)
                if let e = p.validate(file: file).first { throw e }
                if var e = Support.unsupported(p, at: .root) {
                    e.file = file
                    throw e
                }
                // As runc: what process.json leaves out comes from the container's process.
                p.scheduler = p.scheduler ?? spec.process?.scheduler
                p.ioPriority = p.ioPriority ?? spec.process?.ioPriority
                p.execCPUAffinity = p.execCPUAffinity ?? spec.process?.execCPUAffinity
                return p
            } catch let e as SpecError { throw RuntimeError.config(e) }
        }
        let o = options.overrides
        guard var p = spec.process else { throw RuntimeError.other("the container has no process to base exec on") }
        guard !o.args.isEmpty else { throw RuntimeError.usage("exec needs a command to run") }
        p.args = o.args
        p.terminal = o.tty
        p.consoleSize = nil
        if let cwd = o.cwd { p.cwd = cwd }
        var env = p.env ?? []
        for e in o.env {
            let key = e.split(separator: "=", maxSplits: 1).first.map(String.init) ?? e
            env.removeAll { $0 == key || $0.hasPrefix(key + "=") }
            env.append(e)
        }
        p.env = env
        if let user = o.user {
            let parts = user.split(separator: ":", maxSplits: 1)
            guard let uid = UInt32(parts[0]), let gid = parts.count > 1 ? UInt32(parts[1]) : 0 else {
                throw RuntimeError.usage("invalid --user \"\(user)\": expected uid[:gid]")
            }
            p.user.uid = uid
            p.user.gid = gid
        }
        if !o.additionalGids.isEmpty {
            p.user.additionalGids = try o.additionalGids.map { g in
                guard let v = UInt32(g) else { throw RuntimeError.usage("invalid --additional-gids \"\(g)\"") }
                return v
            }
        }
        if !o.capabilities.isEmpty {
            var caps = p.capabilities ?? LinuxCapabilities()
            for name in o.capabilities {
                guard let c = Capability(rawValue: name) else { throw RuntimeError.usage("unknown capability \"\(name)\"") }
                caps.bounding = (caps.bounding ?? []) + [c]
                caps.effective = (caps.effective ?? []) + [c]
                caps.permitted = (caps.permitted ?? []) + [c]
                caps.ambient = (caps.ambient ?? []) + [c]
            }
            p.capabilities = caps
        }
        if o.noNewPrivileges { p.noNewPrivileges = true }
        try applyLabels(o, to: &p)
        return p
    }
}

/// --apparmor and --process-label replace the container's labels, when
/// the host has the LSM (the same check as the config's).
private func applyLabels(_ o: ExecOverrides, to p: inout Process) throws {
    guard !(o.apparmorProfile ?? "").isEmpty || !(o.processLabel ?? "").isEmpty else { return }
    let host = LSM.host
    if let profile = o.apparmorProfile, !profile.isEmpty {
        guard host.apparmor else { throw RuntimeError.usage("--apparmor: \(LSM.noAppArmor)") }
        p.apparmorProfile = profile
    }
    if let label = o.processLabel, !label.isEmpty {
        guard host.selinux else { throw RuntimeError.usage("--process-label: \(LSM.noSELinux("selinux label"))") }
        p.selinuxLabel = label
    }
}

/// The exec'd process between the shim and execve: it is already in the
/// container's namespaces (setns put its root at the container's root) and
/// cgroups; what is left is the process config.
struct ExecPlan {
    var process: Process
    var attributes: ProcessAttributes
    var seccomp: Seccomp?
    var consoleSocketFD: Int32
    var consoleIsRelay: Bool
    var preserveFDs: Int32

    static func run(_ plan: ExecPlan, sync: SyncChannel) -> Never {
        let path: String, env: [String]
        do {
            // Nothing the caller of `apus exec` holds open (a host directory) may reach the container.
            try ProcessSetup.closeInheritedFDs(preserved: plan.preserveFDs, keep: [sync.fd, plan.consoleSocketFD, apus_fault_around_fd()])
            // While it is still apus, nothing in the container may open /proc/<pid>/exe.
            _ = apus_prctl(ContainerInit.PR_SET_DUMPABLE, 0, 0, 0, 0)
            if plan.process.terminal == true {
                _ = setsid()
                try Console.setUp(socketFD: plan.consoleSocketFD, size: plan.process.consoleSize, bindConsole: false,
                                  forRelay: plan.consoleIsRelay)
            }
            let filter = try ProcessSetup.finalize(plan.process, attributes: plan.attributes, seccomp: plan.seccomp, keyring: nil,
                                               preserveFDs: plan.preserveFDs, proc: nil) {
                try SeccompNotify.handOver($0, sync: sync)
            }
            path = try ProcessSetup.lookPath(plan.process.args?.first ?? "", env: plan.process.env ?? [])
            env = ProcessSetup.environment(plan.process, listenFDs: 0)
            // As for the init: loaded (with no_new_privs) and its listener
            // with the agent before READY.
            try filter?.load()
            try SeccompNotify.handOver(filter, sync: sync)
            try sync.send(APUS_SYNC_READY)
            // The parent puts us in the container's cgroups, then says go;
            // if it died meanwhile, nothing runs.
            _ = try sync.receive(expecting: APUS_SYNC_GO, step: "joining the container's cgroups")
            sync.close()
        } catch {
            ContainerInit.report(error, sync: sync)
            _exit(1)
        }
        let err = ProcessSetup.exec(path, args: plan.process.args ?? [], env: env)
        writeStderr("apus: exec \(path): \(errnoText(err))\n")
        _exit(127)
    }
}
