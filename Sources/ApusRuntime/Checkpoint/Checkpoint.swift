import ApusSpec
import Glibc

/// runc's checkpoint/restore flags.
public struct CheckpointOptions {
    public var criu = "criu"
    public var imagePath = ""
    public var workPath = ""
    public var parentPath: String?
    public var leaveRunning = false
    public var tcpEstablished = false
    public var extUnixSk = false
    public var shellJob = false
    public var fileLocks = false
    public var preDump = false
    public var lazyPages = false
    public var autoDedup = false
    public var statusFD: Int32?
    public var pageServer: (address: String, port: Int32)?
    public var manageCgroupsMode: String?
    public var emptyNamespaces: [String] = []

    public init() {}
}

extension Runtime {
    /// `apus checkpoint`: CRIU dumps the container's processes into
    /// --image-path; unless --leave-running (or --pre-dump) they are gone
    /// afterwards and the container is removed, as with runc.
    public func checkpoint(id: String, options o: CheckpointOptions) throws {
        CriuPlan.warnUnprivileged(log)
        let dir = try store.open(id)
        try dir.lock()
        let record = try dir.load()
        let status = record.currentStatus(dir: dir)
        guard status == .running || status == .paused else {
            throw RuntimeError.other("container \(id) is not running (\(status.rawValue)): only a running container can be checkpointed")
        }
        let spec = try savedSpec(dir)
        let images = try CriuDirs.images(o, create: true)
        defer { close(images.fd) }
        if let parent = o.parentPath { try CriuDirs.checkParent(parent, images: images.path) }
        if o.preDump { try CriuPlan.requireMemoryTracking(o.criu) }
        if o.lazyPages { try CriuPlan.requireLazyPages(o.criu) }
        var statusFD = try o.statusFD.map { try CriuPlan.checkStatusFD($0, lazyPages: o.lazyPages) }
        defer { if let fd = statusFD { close(fd) } }
        let work = try CriuDirs.work(o, images: images)
        defer { close(work.fd) }
        var opts = try CriuPlan.common(o, spec: spec, record: record)
        opts.imagesDirFD = images.fd
        opts.workDirFD = work.fd
        opts.logFile = o.preDump ? "pre-dump.log" : "dump.log"
        opts.pid = record.pid
        opts.leaveRunning = o.leaveRunning || o.preDump ? true : nil
        if let parent = o.parentPath { opts.parentImage = parent }
        if o.preDump || o.parentPath != nil { opts.trackMem = true }
        if let ps = o.pageServer { opts.pageServer = ps }
        // Frozen through the cgroup when there is a freezer (else CRIU uses ptrace).
        opts.freezeCgroup = record.cgroupPaths["freezer"]
        opts.externalMounts = CriuPlan.dumpMounts(spec, record: record)
        opts.external = try CriuPlan.externalNamespaces(spec)
        try CriuPlan.saveDescriptors(pid: record.pid, imagesFD: images.fd)
        let service = CriuService(binary: o.criu, logPath: FS.join(work.path, opts.logFile ?? "dump.log"))
        _ = try service.run(CriuRequest(type: o.preDump ? .preDump : .dump, options: opts)) { n in
            // The lazy pages are ready to be served: \0 to --status-fd, as runc writes it.
            if n.notifyScript == "status-ready", let fd = statusFD {
                var zero: UInt8 = 0
                _ = write(fd, &zero, 1)
                close(fd)
                statusFD = nil
            }
        }
        if !o.leaveRunning && !o.preDump {
            // CRIU killed the processes: the container is gone, as in runc.
            try destroy(dir, record)
        }
    }
}

/// An image or work directory, opened for CRIU.
struct CriuDirs {
    let path: String
    let fd: Int32

    /// --parent-path: relative to the images directory and a directory
    /// there, checked before anything is asked of CRIU (runc's words).
    static func checkParent(_ parent: String, images: String) throws {
        if parent.hasPrefix("/") { throw RuntimeError.other("--parent-path must be relative") }
        let real = FS.join(images, parent)
        var st = stat()
        if stat(real, &st) != 0 {
            throw RuntimeError.other("invalid --parent-path: stat \(real): \(goErrnoText(errno))")
        }
        if st.st_mode & S_IFMT != S_IFDIR {
            throw RuntimeError.other("invalid --parent-path: \(real): \(goErrnoText(ENOTDIR))")
        }
    }

    /// --image-path (default ./checkpoint), made for a dump.
    static func images(_ o: CheckpointOptions, create: Bool) throws -> CriuDirs {
        try open(o.imagePath.isEmpty ? FS.join(FS.cwd(), "checkpoint") : o.imagePath, create: create)
    }

    /// --work-path (default: the images directory), always made.
    static func work(_ o: CheckpointOptions, images: CriuDirs) throws -> CriuDirs {
        try open(o.workPath.isEmpty ? images.path : o.workPath, create: true)
    }

    static func open(_ path: String, create: Bool) throws -> CriuDirs {
        let abs = FS.absolute(path)
        if create { try FS.mkdirAll(abs, mode: 0o700) }
        let fd = Glibc.open(abs, O_RDONLY | O_DIRECTORY)
        try check(fd, "opening \(abs)", "open(\(abs))")
        return CriuDirs(path: abs, fd: fd)
    }
}

/// What CRIU must be told about a container, for dump and restore alike.
enum CriuPlan {
    /// CRIU needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE; for an
    /// unprivileged user apus warns, as runc does, and CRIU's own refusal
    /// reaches the user.
    static func warnUnprivileged(_ log: Logger) {
        if Rootless.unprivileged { log.warning("checkpoint is untested with rootless containers") }
    }

    static func common(_ o: CheckpointOptions, spec: Spec, record: ContainerRecord) throws -> CriuOptions {
        var opts = CriuOptions()
        opts.logLevel = 4
        opts.root = record.rootfs
        opts.manageCgroups = true
        opts.notifyScripts = true
        opts.shellJob = o.shellJob
        opts.tcpEstablished = o.tcpEstablished
        opts.extUnixSk = o.extUnixSk
        opts.fileLocks = o.fileLocks
        opts.autoDedup = o.autoDedup
        opts.lazyPages = o.lazyPages
        opts.orphanPtsMaster = true
        opts.configFile = configFile(spec.annotations)
        if let mode = o.manageCgroupsMode {
            guard let m = ["soft": CriuCgroupMode.soft, "full": .full, "strict": .strict, "ignore": .ignore][mode] else {
                throw RuntimeError.usage("invalid manage cgroups mode: \(mode)")
            }
            opts.manageCgroupsMode = m
        }
        // Always empty, as runc: the network is the caller's to set up again
        // (prestart hooks run at restore once the namespace exists).
        var empty = UInt32(NamespaceType.network.cloneFlag)
        for name in o.emptyNamespaces {
            guard name == "network" else { throw RuntimeError.usage("namespace \(name) is not supported by --empty-ns (only network)") }
            empty |= UInt32(NamespaceType.network.cloneFlag)
        }
        opts.emptyNamespaces = empty
        return opts
    }

    /// The CRIU configuration file for this container, as runc chooses it:
    /// the `org.criu.config` annotation (empty: none at all), else
    /// /etc/criu/runc.conf (CRIU skips a file that does not exist). Its
    /// settings override the request's.
    static func configFile(_ annotations: [String: String]?) -> String? {
        guard let file = annotations?["org.criu.config"] else { return "/etc/criu/runc.conf" }
        return file.isEmpty ? nil : file
    }

    /// Namespaces joined by path are not the container's to dump: a network
    /// namespace is marked external (runc's extRootNetNS) so that restore
    /// joins it again; others cannot be restored and are refused.
    static let externalNetNS = "extRootNetNS"

    static func externalNamespaces(_ spec: Spec) throws -> [String] {
        try NamespacePlan(spec).join.map { j in
            guard j.type == .network else {
                throw RuntimeError.unsupported(path: "linux.namespaces",
                                               reason: "checkpoint of a container joining a \(j.type.rawValue) namespace by path is not supported (only network)")
            }
            var st = stat()
            try check(stat(j.path, &st), "checkpoint: joined network namespace", "stat(\(j.path))")
            return "net[\(st.st_ino)]:\(externalNetNS)"
        }
    }

    /// Mounts CRIU cannot see the origin of (binds from the host, the
    /// masks' /dev/null, cgroup trees): external, each named by its
    /// destination so restore can map it back.
    static func dumpMounts(_ spec: Spec, record: ContainerRecord) -> [(key: String, value: String)] {
        var out: [(key: String, value: String)] = []
        let root = try? SafePath(rootfs: record.rootfs)
        defer { root?.close() }
        for (i, m) in (spec.mounts ?? []).enumerated() {
            let r = MountRequest(m, index: i)
            if r.kind == .bind {
                let at = mountPoint(r.destination, in: root)
                out.append((at, at))
            }
            if r.kind == .cgroup { out += cgroupMounts(r, record.cgroupPaths).map { ($0.key, $0.key) } }
        }
        // Masked files are clones of the host's /dev/null (masked directories are tmpfs).
        for path in spec.linux?.maskedPaths ?? [] {
            var st = stat()
            if stat("/proc/\(record.pid)/root" + path, &st) == 0, st.st_mode & S_IFMT != S_IFDIR { out.append((path, "/dev/null")) }
        }
        return out
    }

    /// Where a bind's destination was mounted: as the mount code resolved it
    /// in the rootfs (a symlink there followed inside it, runc's
    /// SecureJoin), which is the mount point CRIU sees.
    static func mountPoint(_ destination: String, in root: SafePath?) -> String {
        root?.resolved(destination) ?? destination
    }

    /// The binds of the container's cgroup directories under a v1 cgroup
    /// mount (SpecMounts.mountCgroup), by destination → host directory.
    static func cgroupMounts(_ r: MountRequest, _ paths: [String: String]) -> [(key: String, value: String)] {
        let hs = Cgroups.hierarchies()
        guard Cgroups.layout(hs) != .v2 else { return [] }
        return hs.compactMap { h in
            guard let dir = paths[h.key] else { return nil }
            let name = h.key == "unified" ? "unified" : String(h.key.split(separator: "=").last ?? "")
            return (FS.join(r.destination, name), dir)
        }
    }

    /// --pre-dump needs CRIU's memory dirty tracking (soft-dirty bits):
    /// asked first, as runc does, so nothing is dumped in vain.
    static func requireMemoryTracking(_ criu: String) throws {
        try requireFeatures(criu, CriuFeatures(memTrack: true),
                            "mem_track (memory dirty tracking, needed by --pre-dump; this kernel has no CONFIG_MEM_SOFT_DIRTY or CRIU cannot use it)")
    }

    /// --lazy-pages needs userfaultfd (asked first, as runc does).
    static func requireLazyPages(_ criu: String) throws {
        try requireFeatures(criu, CriuFeatures(lazyPages: true),
                            "lazy_pages (userfaultfd, needed by --lazy-pages; this kernel or CRIU has none)")
    }

    /// CRIU's version as runc compares it (major·10000 + minor·100 + sublevel) at least `wanted`.
    static func requireVersion(_ criu: String, _ wanted: Int32, _ message: String) throws {
        let service = CriuService(binary: criu, logPath: "")
        guard let v = try service.run(CriuRequest(type: .version, options: nil)).version,
              v.major * 10000 + v.minor * 100 + v.sublevel >= wanted else { throw RuntimeError.usage(message) }
    }

    private static func requireFeatures(_ criu: String, _ wanted: CriuFeatures, _ missing: String) throws {
        let service = CriuService(binary: criu, logPath: "")
        let got = try service.run(CriuRequest(type: .featureCheck, options: nil, features: wanted)).features
        if wanted.memTrack == true && got?.memTrack != true || wanted.lazyPages == true && got?.lazyPages != true {
            throw RuntimeError.other("CRIU is missing features: " + missing)
        }
    }

    /// --status-fd (runc's checks): an open, writable descriptor, and only
    /// with --lazy-pages, the one case CRIU reports readiness (runc ignores
    /// it otherwise). Close-on-exec from here on, so CRIU does not hold it.
    static func checkStatusFD(_ fd: Int32, lazyPages: Bool) throws -> Int32 {
        guard lazyPages else { throw RuntimeError.usage("--status-fd is only used with --lazy-pages") }
        let flags = fcntl(fd, F_GETFL)
        if flags < 0 { throw RuntimeError.usage("invalid --status-fd argument \(fd): \(errnoText(errno))") }
        if flags & O_ACCMODE == O_RDONLY { throw RuntimeError.usage("invalid --status-fd argument \(fd): not writable") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        return fd
    }

    /// The init's stdio targets, for restore to reconnect (runc's descriptors.json).
    static func saveDescriptors(pid: Int32, imagesFD: Int32) throws {
        var links: [JSONValue] = []
        for fd in 0..<3 {
            links.append(.string(FS.readLink("/proc/\(pid)/fd/\(fd)") ?? "/dev/null"))
        }
        let text = JSONWriter.compact(.array(links))
        let fd = openat(imagesFD, "descriptors.json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try check(fd, "saving descriptors.json", "open(descriptors.json)")
        defer { close(fd) }
        try FS.writeAll(fd, Array(text.utf8), path: "descriptors.json")
    }
}
