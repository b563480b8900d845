/// The CRIU RPC messages apus sends and reads (criu/images/rpc.proto,
/// field numbers as there): criu_req with criu_opts, and criu_resp.
enum CriuRequestType: Int32 {
    case empty = 0, dump = 1, restore = 2, check = 3, preDump = 4, pageServer = 5, notify = 6
    case featureCheck = 9, version = 10

    /// rpc.proto's name, as runc prints it ("criu failed: type DUMP errno 0").
    var name: String {
        switch self {
        case .empty: return "EMPTY"
        case .dump: return "DUMP"
        case .restore: return "RESTORE"
        case .check: return "CHECK"
        case .preDump: return "PRE_DUMP"
        case .pageServer: return "PAGE_SERVER"
        case .notify: return "NOTIFY"
        case .featureCheck: return "FEATURE_CHECK"
        case .version: return "VERSION"
        }
    }
}

/// criu_cg_mode.
enum CriuCgroupMode: Int32 {
    case ignore = 0, none = 1, props = 2, soft = 3, full = 4, strict = 5, `default` = 6
}

struct CriuOptions {
    var imagesDirFD: Int32 = -1
    var pid: Int32?
    var leaveRunning: Bool?
    var extUnixSk: Bool?
    var tcpEstablished: Bool?
    var shellJob: Bool?
    var fileLocks: Bool?
    var logLevel: Int32?
    var logFile: String?
    /// criu_page_server_info: address, port.
    var pageServer: (address: String, port: Int32)?
    var notifyScripts: Bool?
    var root: String?
    var parentImage: String?
    var trackMem: Bool?
    var autoDedup: Bool?
    var workDirFD: Int32?
    var linkRemap: Bool?
    /// ext_mnt: (key, val).
    var externalMounts: [(key: String, value: String)] = []
    var manageCgroups: Bool?
    /// cg_root: (controller or nil, path).
    var cgroupRoots: [(controller: String?, path: String)] = []
    var restoreSibling: Bool?
    /// inherit_fd: (key, fd).
    var inheritFDs: [(key: String, fd: Int32)] = []
    var manageCgroupsMode: CriuCgroupMode?
    var external: [String] = []
    var emptyNamespaces: UInt32?
    var freezeCgroup: String?
    var lazyPages: Bool?
    var orphanPtsMaster: Bool?
    var configFile: String?
    /// TYPE:NAME (apparmor, selinux or none), parsed by CRIU.
    var lsmProfile: String?
    var lsmMountContext: String?

    var encoded: ProtoWriter {
        var w = ProtoWriter()
        w.int32(1, imagesDirFD)
        w.int32(2, pid)
        w.bool(3, leaveRunning)
        w.bool(4, extUnixSk)
        w.bool(5, tcpEstablished)
        w.bool(7, shellJob)
        w.bool(8, fileLocks)
        w.int32(9, logLevel)
        w.string(10, logFile)
        if let ps = pageServer { w.nested(11) { $0.string(1, ps.address); $0.int32(2, ps.port) } }
        w.bool(12, notifyScripts)
        w.string(13, root)
        w.string(14, parentImage)
        w.bool(15, trackMem)
        w.bool(16, autoDedup)
        w.int32(17, workDirFD)
        w.bool(18, linkRemap)
        for m in externalMounts { w.nested(23) { $0.string(1, m.key); $0.string(2, m.value) } }
        w.bool(24, manageCgroups)
        for r in cgroupRoots { w.nested(25) { $0.string(1, r.controller); $0.string(2, r.path) } }
        w.bool(26, restoreSibling)
        for f in inheritFDs { w.nested(27) { $0.string(1, f.key); $0.int32(2, f.fd) } }
        w.int32(34, manageCgroupsMode?.rawValue)
        for e in external { w.string(37, e) }
        w.uint32(38, emptyNamespaces)
        w.string(44, freezeCgroup)
        w.bool(48, lazyPages)
        w.bool(50, orphanPtsMaster)
        w.string(51, configFile)
        w.string(53, lsmProfile)
        w.string(63, lsmMountContext)
        return w
    }
}

/// criu_features: asked as true, answered with what this CRIU and kernel can do.
struct CriuFeatures {
    var memTrack: Bool?
    var lazyPages: Bool?
}

struct CriuRequest {
    var type: CriuRequestType
    var options: CriuOptions?
    var notifySuccess: Bool?
    /// criu_features (mem_track, lazy_pages), asked with FEATURE_CHECK.
    var features: CriuFeatures?

    var bytes: [UInt8] {
        var w = ProtoWriter()
        w.int32(1, type.rawValue)
        w.message(2, options?.encoded)
        w.bool(3, notifySuccess)
        if let features { w.nested(5) { $0.bool(1, features.memTrack); $0.bool(2, features.lazyPages) } }
        return w.bytes
    }
}

struct CriuResponse {
    var type: Int32
    var success: Bool
    var crErrno: Int32?
    var crErrmsg: String?
    /// criu_restore_resp.pid
    var restoredPID: Int32?
    /// criu_notify: script name and pid.
    var notifyScript: String?
    var notifyPID: Int32?
    /// criu_version: major, minor, sublevel.
    var version: (major: Int32, minor: Int32, sublevel: Int32)?
    /// criu_features of a FEATURE_CHECK answer.
    var features: CriuFeatures?
    /// A descriptor sent with the answer (SCM_RIGHTS: the orphan pts master), or -1.
    var passedFD: Int32 = -1

    init(_ data: [UInt8]) throws {
        let m = try ProtoMessage(data)
        guard let type = m.int32(1), let success = m.bool(2) else { throw ProtoMessage.Malformed() }
        self.type = type
        self.success = success
        crErrno = m.int32(7)
        crErrmsg = m.string(9)
        restoredPID = try m.message(4)?.int32(1)
        if let n = try m.message(5) {
            notifyScript = n.string(1)
            notifyPID = n.int32(2)
        }
        if let f = try m.message(8) { features = CriuFeatures(memTrack: f.bool(1), lazyPages: f.bool(2)) }
        if let v = try m.message(10), let major = v.int32(1), let minor = v.int32(2) {
            version = (major, minor, v.int32(4) ?? 0)
        }
    }
}
