import ApusSpec

/// Where a controller lives for one container: a v1 hierarchy's directory,
/// or the cgroup2 directory with the controller enabled for it.
struct CgroupController: Equatable {
    var dir: String
    var v2: Bool
}

/// What the resource planners need to know about the host, as functions so
/// the conversions can be tested without cgroups: `apply` looks at the
/// container's own directories, `problems` (apus check) at the hierarchies'
/// roots without writing anything.
struct CgroupHost {
    /// The v1 directory holding this controller (v1 names: "blkio", "cpu", ...).
    var v1: (String) -> String?
    /// The cgroup2 directory if this controller (v2 names: "io", "cpu", ...)
    /// is available there ("": the cgroup2 directory, if any). Enabling it
    /// down the tree may fail.
    var v2: (String) throws -> String?
    var exists: (String) -> Bool
    var read: (String) -> String?
    /// Huge page sizes the kernel offers, as "2MB", "1GB".
    var hugePageSizes: () -> [String]
    /// Per-file checks must not assume a file is missing: the v2 root of a
    /// hierarchy lacks most controller files that a child would have.
    var optimisticV2Files = false

    /// A v1 hierarchy first (the hybrid layout's choice, as runc), else v2.
    func locate(v1 name: String, v2 name2: String) throws -> CgroupController? {
        if let dir = v1(name) { return CgroupController(dir: dir, v2: false) }
        return try v2(name2).map { CgroupController(dir: $0, v2: true) }
    }

    func has(_ c: CgroupController, _ file: String) -> Bool {
        (c.v2 && optimisticV2Files) || exists(c.dir + "/" + file)
    }
}

/// One value for one cgroup file, with the JSON path it comes from (named in
/// the error when the kernel refuses it).
struct CgroupWrite: Equatable {
    var path: String
    var file: String
    var value: String
}

/// The writes that `linux.resources` asks for on one host, and every value
/// the host cannot apply. Built completely before anything is written, so a
/// refused value leaves the cgroups untouched. One extension per controller
/// family (CgroupMemory.swift, CgroupCPU.swift, ...), as crun's
/// cgroup-resources.c.
struct CgroupPlan {
    let host: CgroupHost
    private(set) var writes: [CgroupWrite] = []
    private(set) var errors: [RuntimeError] = []
    /// What is accepted but has no effect, as runc warns (kernel memory).
    private(set) var warnings: [String] = []

    init(host: CgroupHost) { self.host = host }

    /// `path` is below linux.resources ("memory.limit").
    mutating func write(_ path: String, _ c: CgroupController, _ file: String, _ value: String) {
        writes.append(CgroupWrite(path: "linux.resources." + path, file: c.dir + "/" + file, value: value))
    }

    mutating func fail(_ path: String, _ reason: String) {
        errors.append(.unsupported(path: "linux.resources." + path, reason: reason))
    }

    mutating func warn(_ text: String) { warnings.append(text) }

    mutating func fail(_ error: Error, at path: String) {
        errors.append(error as? RuntimeError ?? .other("linux.resources.\(path): \(error)"))
    }

    /// The controller for `path`, or nil after recording why there is none.
    mutating func controller(v1 name: String, v2 name2: String, for path: String) -> CgroupController? {
        do {
            if let c = try host.locate(v1: name, v2: name2) { return c }
        } catch {
            fail(error, at: path)
            return nil
        }
        let names = name == name2 ? name : "\(name) (v1) or \(name2) (v2)"
        fail(path, "no \(names) cgroup controller on this host")
        return nil
    }

    /// `file` must exist in the controller's directory, else `reason`.
    mutating func require(_ c: CgroupController, _ file: String, for path: String, _ reason: String) -> Bool {
        if host.has(c, file) { return true }
        fail(path, reason)
        return false
    }

    /// Plans every resource except the device rules (CgroupResources.applyDevices).
    static func make(_ r: Resources, host: CgroupHost) -> CgroupPlan {
        var plan = CgroupPlan(host: host)
        if let p = r.pids { plan.pids(p) }
        if let m = r.memory { plan.memory(m) }
        if let c = r.cpu { plan.cpu(c) }
        if let b = r.blockIO { plan.blockIO(b) }
        if let h = r.hugepageLimits, !h.isEmpty { plan.hugetlb(h) }
        if let n = r.network { plan.network(n) }
        if let rdma = r.rdma, !rdma.isEmpty { plan.rdma(rdma) }
        // Last: raw values override the ones converted above, as in runc and crun.
        if let u = r.unified, !u.isEmpty { plan.unified(u) }
        return plan
    }

    func run() throws {
        for w in writes {
            do { try FS.write(w.file, w.value) } catch RuntimeError.syscall(_, let call, let err) {
                throw Self.memoryLimitBusy(w, errno: err) ?? RuntimeError.syscall(step: w.path, call: call, errno: err)
            }
        }
    }
}

extension CgroupHost {
    /// The container's own cgroups (`paths`: hierarchy key → directory).
    static func live(_ paths: [String: String]) -> CgroupHost {
        CgroupHost(
            v1: { Cgroups.v1Dir(paths, $0) },
            v2: { name in
                guard let dir = paths["unified"], try name.isEmpty || Cgroups.enableV2Controller(name, for: dir) else { return nil }
                return dir
            },
            exists: FS.exists,
            read: { try? FS.readString($0) },
            hugePageSizes: CgroupHost.kernelHugePageSizes)
    }

    /// The hierarchies' roots, read only (apus check).
    static func roots(_ hierarchies: [Cgroups.Hierarchy]) -> CgroupHost {
        let v2 = hierarchies.first { $0.key == "unified" }
        let v2Controllers = v2.flatMap { try? FS.readString($0.mountPoint + "/cgroup.controllers") }?
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init) ?? []
        return CgroupHost(
            v1: { c in hierarchies.first { $0.key != "unified" && $0.key.split(separator: ",").contains(Substring(c)) }?.mountPoint },
            v2: { c in c.isEmpty || v2Controllers.contains(c) ? v2?.mountPoint : nil },
            exists: FS.exists,
            read: { try? FS.readString($0) },
            hugePageSizes: CgroupHost.kernelHugePageSizes,
            optimisticV2Files: true)
    }

    /// /sys/kernel/mm/hugepages/hugepages-2048kB → "2MB" (runc's names).
    static func kernelHugePageSizes() -> [String] {
        ((try? FS.listDirectory("/sys/kernel/mm/hugepages")) ?? []).compactMap { name in
            guard name.hasPrefix("hugepages-"), name.hasSuffix("kB"),
                  let kb = UInt64(name.dropFirst("hugepages-".count).dropLast(2)) else { return nil }
            return HugeTLB.pageSizeName(kilobytes: kb)
        }
    }
}
