import ApusSpec
import CApusShim
import Glibc

/// A restored terminal's pty master: where it goes (the --console-socket
/// connection) or, in the foreground, the master kept for the relay.
struct RestoredConsole {
    var socket: Int32 = -1
    var master: Int32 = -1

    mutating func close() {
        for fd in [socket, master] where fd >= 0 { Glibc.close(fd) }
        socket = -1
        master = -1
    }
}

public struct RestoreOptions {
    public var checkpoint = CheckpointOptions()
    public var create = CreateOptions()
    public var detach = false
    public var subreaper = true
    /// --lsm-profile TYPE:NAME and --lsm-mount-context (nil: not given).
    public var lsmProfile: String?
    public var lsmMountContext: String?

    public init() {}
}

extension Runtime {
    /// `apus restore`: the bundle's config with processes from a
    /// checkpoint. The container's cgroups are made as by create and CRIU
    /// (in them) restores the process tree, its namespaces and mounts, with
    /// the external mounts mapped back to this bundle's sources. Returns the
    /// exit status in the foreground, 0 with --detach.
    public func restore(id: String, options o: RestoreOptions) throws -> Int32 {
        CriuPlan.warnUnprivileged(log)
        let (spec, bundle, rootfs) = try Bundle.load(o.create.bundle)
        try Support.check(spec)
        try ContainerID.validate(id)
        try CriuPlan.checkLSM(profile: o.lsmProfile, mountContext: o.lsmMountContext, host: LSM.host, criu: o.checkpoint.criu)
        let terminal = spec.process?.terminal == true
        try Console.checkSocketUse(terminal: terminal, socket: o.create.consoleSocket, relayed: !o.detach)
        var console = RestoredConsole()
        defer { console.close() }
        if let path = o.create.consoleSocket { console.socket = try Console.connect(path) }
        let cgroupPaths = try Cgroups.paths(cgroupsPath: spec.linux?.cgroupsPath, id: id)
        let me = getpid()
        let intent = CreateIntent(creatorPID: me, creatorStartTime: ProcStat.read(pid: me)?.startTime ?? 0, cgroupPaths: cgroupPaths)
        let dir = try store.claim(id, intent: intent, config: spec.json) { stale, staleIntent in try removeHalfCreated(stale, staleIntent) }
        var cleanup = Cleanup(dir: dir, intent: intent)
        if !o.detach && o.subreaper { _ = apus_prctl(36 /* PR_SET_CHILD_SUBREAPER */, 1, 0, 0, 0) }
        var r = ContainerRecord(id: id, bundle: bundle, rootfs: rootfs, created: Timestamp.now(), annotations: spec.annotations)
        do {
            cleanup.removesCgroups = true
            try Cgroups.create(cgroupPaths)
            try CgroupResources.apply(spec.linux?.resources, paths: cgroupPaths)
            let pid = try criuRestore(spec: spec, bundle: bundle, rootfs: rootfs, dir: dir, cgroupPaths: cgroupPaths,
                                      options: o) { n in
                try Self.restoreNotified(n, spec: spec, record: r, console: &console)
            }
            cleanup.children.pid = pid
            r.pid = pid
            r.pidStartTime = ProcStat.read(pid: pid)?.startTime ?? 0
            r.cgroupPaths = cgroupPaths
            r.hasPoststopHooks = !(spec.hooks?.poststop ?? []).isEmpty
            let ns = NamespacePlan(spec)
            if ns.creates(.pid) { r.pidNamespace = Cgroups.pidNamespace(of: pid) }
            for t in NamespaceType.allCases where !ns.shares(t) { r.namespacePaths[t.procName] = "/proc/\(pid)/ns/\(t.procName)" }
            try dir.save(r)
            if let pidFile = o.create.pidFile { try FS.writeAtomically(FS.absolute(pidFile), Array(String(pid).utf8)) }
        } catch {
            cleanup.run()
            throw error
        }
        if o.detach { return 0 }
        let relay = console.master >= 0 ? TerminalRelay(master: console.master) : nil
        console.master = -1
        defer { relay?.restore() }
        var supervisor = Supervisor(initPID: r.pid, relay: relay, cgroupPaths: r.cgroupPaths)
        let status = try supervisor.waitForExit()
        try delete(id: id, force: true)
        return status
    }

    /// CRIU's notifications during a restore, as runc handles them: once the
    /// namespaces exist ("setup-namespaces") the prestart and createRuntime
    /// hooks run (runc's state: status stopped, the restored init's pid);
    /// the terminal's new pty master ("orphan-pts-master") goes to
    /// --console-socket, or to apus's own relay in the foreground.
    private static func restoreNotified(_ n: CriuResponse, spec: Spec, record: ContainerRecord,
                                        console: inout RestoredConsole) throws {
        switch n.notifyScript ?? "" {
        case "setup-namespaces":
            guard let pid = n.notifyPID else { return }
            var r = record
            r.pid = pid
            let state = StateOutput.oci(r, status: .stopped, pid: pid)
            try Hooks.run(.prestart, hooks: spec.hooks, state: state)
            try Hooks.run(.createRuntime, hooks: spec.hooks, state: state)
        case "orphan-pts-master":
            guard n.passedFD >= 0 else { throw RuntimeError.other("criu sent no pty master with orphan-pts-master") }
            if console.socket >= 0 {
                try check(apus_send_fd(console.socket, n.passedFD), "sending the console to --console-socket", "sendmsg(SCM_RIGHTS)")
            } else {
                console.master = fcntl(n.passedFD, F_DUPFD_CLOEXEC, 3)
                try check(console.master, "keeping the restored console", "fcntl(F_DUPFD_CLOEXEC)")
            }
        default:
            return
        }
    }

    /// CRIU restores into a bind of the rootfs (runc's criu-root), in the
    /// container's cgroups, once the mounts' mount points exist
    /// (RestoreMountPoints); returns the restored init's pid.
    private func criuRestore(spec: Spec, bundle: String, rootfs: String, dir: ContainerDir, cgroupPaths: [String: String],
                             options ro: RestoreOptions, notify: (CriuResponse) throws -> Void) throws -> Int32 {
        let o = ro.checkpoint
        let images = try CriuDirs.images(o, create: false)
        defer { close(images.fd) }
        if ro.lsmMountContext != nil { try CriuPlan.checkMountContext(images) }
        let work = try CriuDirs.work(o, images: images)
        defer { close(work.fd) }
        try RestoreMountPoints.make(spec, bundle: bundle, rootfs: rootfs, scratch: FS.join(dir.path, "criu-mounts"))
        let criuRoot = try RootfsBind.make(rootfs, at: FS.join(dir.path, "criu-root"))
        defer { criuRoot.remove() }
        let root = criuRoot.path

        var opts = try CriuPlan.common(o, spec: spec, record: ContainerRecord(id: dir.id, bundle: "", rootfs: root, created: "", annotations: nil))
        opts.imagesDirFD = images.fd
        opts.workDirFD = work.fd
        opts.logFile = "restore.log"
        opts.restoreSibling = true
        opts.externalMounts = CriuPlan.restoreMounts(spec, bundle: bundle, rootfs: rootfs, cgroupPaths: cgroupPaths)
        opts.cgroupRoots = CriuPlan.cgroupRoots(cgroupPaths)
        opts.lsmProfile = ro.lsmProfile
        opts.lsmMountContext = ro.lsmMountContext
        // The restored tree's stdio: pipes saved in descriptors.json are ours now.
        var extra: [Int32] = []
        var opened: [Int32] = []
        defer { opened.forEach { close($0) } }
        for (i, link) in CriuPlan.loadDescriptors(imagesFD: images.fd).enumerated() where link.hasPrefix("pipe:") {
            opts.inheritFDs.append((link, Int32(4 + extra.count)))
            extra.append(Int32(i))
        }
        if let net = NamespacePlan(spec).join.first(where: { $0.type == .network }) {
            let fd = open(net.path, O_RDONLY | O_CLOEXEC)
            try check(fd, "restoring: joining the network namespace", "open(\(net.path))")
            opened.append(fd)
            opts.inheritFDs.append((CriuPlan.externalNetNS, Int32(4 + extra.count)))
            extra.append(fd)
        }
        var service = CriuService(binary: o.criu, logPath: FS.join(work.path, "restore.log"))
        service.cgroupPaths = cgroupPaths
        var restored: Int32 = 0
        let resp = try service.run(CriuRequest(type: .restore, options: opts), extraFDs: extra) { n in
            if n.notifyScript == "post-restore", let pid = n.notifyPID { restored = pid }
            try notify(n)
        }
        if let pid = resp.restoredPID, pid > 0 { restored = pid }
        guard restored > 0 else { throw RuntimeError.other("criu restored no process\n" + service.logExcerpt()) }
        return restored
    }
}

extension CriuPlan {
    /// --lsm-profile and --lsm-mount-context go to CRIU as given, as runc
    /// sends them: CRIU parses TYPE:NAME and refuses an LSM this kernel
    /// lacks (lsm_check_opts), in its own words. Like runc, they need CRIU
    /// 3.16 (an older one mishandles the profile and knows no mount
    /// context). CRIU puts the mount context only in place of the context=
    /// option a dumped mount carries, which none has without SELinux: there
    /// it would be ignored, so it is refused (runc passes it on); with
    /// SELinux the checkpoint's mounts are looked at (checkMountContext).
    static func checkLSM(profile: String?, mountContext: String?, host: LSM, criu: String) throws {
        if mountContext != nil && !host.selinux {
            throw RuntimeError.usage("--lsm-mount-context: selinux is disabled or not supported (CRIU only replaces the "
                                     + "context= option of the dumped mounts, which none has without SELinux)")
        }
        guard let flag = profile != nil ? "--lsm-profile" : mountContext != nil ? "--lsm-mount-context" : nil else { return }
        try requireVersion(criu, 31600, "\(flag) requires at least CRIU 3.16")
    }

    /// Where SELinux is enabled, a checkpoint whose mounts have no context=
    /// (a container made without linux.mountLabel) would still have the
    /// mount context ignored: refused too. "context=" anywhere in a mount's
    /// options, as CRIU looks for it (strstr).
    static func checkMountContext(_ images: CriuDirs) throws {
        let options = try dumpedMountOptions(images)
        guard !options.contains(where: { CriuService.mentions(Substring($0), "context=") }) else { return }
        throw RuntimeError.usage("--lsm-mount-context: no mount in the checkpoint \(images.path) has a context= option "
                                 + "(CRIU only replaces that one, so it would be ignored)")
    }

    /// The superblock options of the mounts in CRIU's mountpoints-N.img files.
    static func dumpedMountOptions(_ images: CriuDirs) throws -> [String] {
        try FS.listDirectory(fd: images.fd, path: images.path).filter { $0.hasPrefix("mountpoints-") && $0.hasSuffix(".img") }
            .flatMap { name -> [String] in
                let path = FS.join(images.path, name)
                let fd = openat(images.fd, name, O_RDONLY | O_CLOEXEC)
                try check(fd, "reading the checkpoint's mounts", "open(\(path))")
                defer { close(fd) }
                guard let options = mountOptions(image: try FS.readAll(fd, path: path)) else {
                    throw RuntimeError.other("\(path): not a CRIU mount image")
                }
                return options
            }
    }

    /// mnt_entry.options (field 9) of each entry of a mount image:
    /// IMG_COMMON_MAGIC (not in old CRIUs' images) and MNTS_MAGIC, then per
    /// mount a little-endian 32-bit size and the mnt_entry; nil if malformed.
    static func mountOptions(image bytes: [UInt8]) -> [String]? {
        func u32(_ at: Int) -> Int? {
            guard at >= 0, at + 4 <= bytes.count else { return nil }
            return (0..<4).reduce(0) { $0 | Int(bytes[at + $1]) << (8 * $1) }
        }
        var at = u32(0) == 0x5456_4319 ? 4 : 0
        guard u32(at) == 0x5556_3928 else { return nil }
        at += 4
        var out: [String] = []
        while let size = u32(at) {
            at += 4
            guard at + size <= bytes.count, let m = try? ProtoMessage(Array(bytes[at..<at + size])) else { return nil }
            out.append(m.string(9) ?? "")
            at += size
        }
        return at == bytes.count ? out : nil
    }

    /// Restore's side of dumpMounts: each external mount mapped to this
    /// bundle's source; the masks' /dev/null to the host's.
    static func restoreMounts(_ spec: Spec, bundle: String, rootfs: String, cgroupPaths: [String: String]) -> [(key: String, value: String)] {
        var out: [(key: String, value: String)] = []
        let root = try? SafePath(rootfs: rootfs)
        defer { root?.close() }
        for (i, m) in (spec.mounts ?? []).enumerated() {
            let r = MountRequest(m, index: i)
            if r.kind == .bind, let source = ConfigMount.hostSource(m, bundle: bundle) { out.append((mountPoint(r.destination, in: root), source)) }
            if r.kind == .cgroup { out += cgroupMounts(r, cgroupPaths) }
        }
        if !(spec.linux?.maskedPaths ?? []).isEmpty { out.append(("/dev/null", "/dev/null")) }
        return out
    }

    /// Each controller's cgroup relative to its hierarchy's mount point.
    static func cgroupRoots(_ paths: [String: String]) -> [(controller: String?, path: String)] {
        let mounts = Dictionary(Cgroups.hierarchies().map { ($0.key, $0.mountPoint) }, uniquingKeysWith: { a, _ in a })
        return paths.sorted { $0.key < $1.key }.compactMap { key, dir in
            guard let mp = mounts[key], dir.hasPrefix(mp) else { return nil }
            let rel = String(dir.dropFirst(mp.count))
            // As /proc/PID/cgroup names them (runc passes those): "" for cgroup2.
            return (key == "unified" ? "" : key, rel.isEmpty ? "/" : rel)
        }
    }

    static func loadDescriptors(imagesFD: Int32) -> [String] {
        let fd = openat(imagesFD, "descriptors.json", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        guard let bytes = try? FS.readAll(fd, path: "descriptors.json"), let doc = try? JSONParser.parse(bytes),
              case .array(let items) = doc else { return [] }
        return items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
    }
}
