import ApusSpec
import CApusShim
import Glibc

/// The state root (`--root`, default /run/apus): one directory per container
/// holding `state.json` (written atomically), `intent.json` (what its create
/// set out to make, and the config as decoded then), and the exec fifo while
/// the container is `created`. Each file is an inode made and removed per
/// container: on an ext4 without a journal every one costs `run` ~0.2 ms
/// (the allocator scans past recently deleted inodes), so there are no more
/// files than that.
public struct StateStore {
    public let root: String
    public static let defaultRoot = "/run/apus"
    /// Under $XDG_RUNTIME_DIR: sticky, so that the session's cleanup leaves it alone (runc).
    public var sticky = false

    public init(root: String) { self.root = root }

    public func path(of id: String) -> String { root + "/" + id }

    /// Creates the container's directory holding `intent` from its first
    /// moment: it is made under a private name and renamed into place with
    /// RENAME_NOREPLACE, so of two concurrent creates of one id exactly one
    /// wins, and no reader ever sees the directory without its intent.
    /// A directory left by a create that died half-way is cleaned up
    /// (`removeHalfCreated`) and the claim retried once. `config` (the
    /// config to keep) goes into the same file.
    public func claim(_ id: String, intent: CreateIntent, config: JSONValue? = nil,
                      cleanup: (ContainerDir, CreateIntent?) throws -> Void) throws -> ContainerDir {
        try ContainerID.validate(id)
        try makeRoot()
        let dir = path(of: id)
        removeDeadClaims()
        // One create per process: its pid and start time name the staging directory.
        let staging = root + "/" + Self.stagingPrefix + "\(intent.creatorPID)-\(intent.creatorStartTime)"
        var made = mkdir(staging, 0o711) == 0
        if !made && errno == EEXIST {
            try FS.removeTree(staging)
            made = mkdir(staging, 0o711) == 0
        }
        if !made { throw RuntimeError.syscall(step: "creating state directory", call: "mkdir(\(staging))", errno: errno) }
        do {
            // Private until the rename: written in place, no temporary names.
            try FS.writeNew(staging + "/" + ContainerDir.intentName, ContainerDir.intentDocument(intent, config: config), mode: 0o600)
            claiming: for attempt in 0..<2 {
                if apus_rename_noreplace(staging, dir) == 0 { return try ContainerDir(id: id, path: dir) }
                guard errno == EEXIST || errno == ENOTEMPTY else {
                    throw RuntimeError.syscall(step: "creating state directory", call: "renameat2(\(dir), RENAME_NOREPLACE)", errno: errno)
                }
                let existing = try ContainerDir(id: id, path: dir)
                // A container (the usual case) is not locked: a command on it may hold the lock.
                guard attempt == 0, !FS.exists(existing.statePath) else { break }
                switch try existing.createOutcome() {
                case .replaced: continue
                case .inProgress, .finished: break claiming
                case .died(let other): try cleanup(existing, other)
                }
            }
            throw RuntimeError.exists(id: id)
        } catch {
            try? FS.removeTree(staging)
            throw error
        }
    }

    static let stagingPrefix = ".claim-"

    private func makeRoot() throws {
        do { try FS.mkdirAll(root, mode: 0o700) } catch let e as RuntimeError {
            guard geteuid() != 0, root == Self.defaultRoot else { throw e }
            throw RuntimeError.other("\(e) (not root: set XDG_RUNTIME_DIR or --root to a directory of your own)")
        }
        if sticky { try check(chmod(root, 0o1700), "creating state directory", "chmod(\(root), 01700)") }
    }

    /// Staging directories of creates killed before their rename: their
    /// names say whose they were.
    public func removeDeadClaims() {
        for name in (try? FS.listDirectory(root)) ?? [] where name.hasPrefix(Self.stagingPrefix) {
            let parts = name.dropFirst(Self.stagingPrefix.count).split(separator: "-")
            guard parts.count == 2, let pid = Int32(parts[0]), let start = UInt64(parts[1]) else { continue }
            if let st = ProcStat.read(pid: pid), st.isAlive, st.startTime == start { continue }
            try? FS.removeTree(root + "/" + name)
        }
    }

    public func open(_ id: String) throws -> ContainerDir {
        try ContainerID.validate(id)
        let dir = path(of: id)
        guard FS.exists(dir + "/state.json") else { throw RuntimeError.notFound(id: id) }
        return try ContainerDir(id: id, path: dir)
    }

    /// Ids of containers whose state was fully written (a create in
    /// progress has no state.json yet).
    public func ids() throws -> [String] {
        guard FS.isDirectory(root) else { return [] }
        return try FS.listDirectory(root).filter { FS.exists(path(of: $0) + "/state.json") }
    }
}

/// One container's state directory, opened and (for mutating commands) locked.
public final class ContainerDir {
    public let id: String
    public let path: String
    private var lockFD: Int32 = -1

    init(id: String, path: String) throws {
        self.id = id
        self.path = path
    }

    deinit { if lockFD >= 0 { close(lockFD) } }

    public var statePath: String { path + "/state.json" }
    public var fifoPath: String { path + "/exec.fifo" }
    static let intentName = "intent.json"
    public var intentPath: String { path + "/" + Self.intentName }
    /// Where an apus before 2026-12-05 kept the config (intent.json then
    /// had none): read, and rewritten by `update`, for its containers.
    var legacyConfigPath: String { path + "/config.json" }

    /// intent.json: the intent's properties, then the config under "config".
    static func intentDocument(_ intent: CreateIntent, config: JSONValue?) -> [UInt8] {
        guard let config, case .object(var o) = intent.json else { return Array(JSONWriter.compact(intent.json).utf8) }
        o.members.append(("config", config))
        return Array(JSONWriter.compact(.object(o)).utf8)
    }

    private func intentTree() throws -> JSONValue {
        let bytes = try ConfigLoader.readDocument(intentPath, file: intentPath)
        do { return try JSONParser.parse(bytes) } catch let e as JSONParseError {
            throw SpecError(e.message, at: .root, file: intentPath)
        }
    }

    /// The intent of the create that made this directory (nil if unreadable).
    public func intent() -> CreateIntent? {
        guard let tree = try? intentTree() else { return nil }
        return try? CreateIntent(json: tree, path: .root)
    }

    /// Rewrites the intent (a create adding what it learnt, e.g. its init).
    func saveIntent(_ intent: CreateIntent, config: JSONValue?) throws {
        try FS.writeAtomically(intentPath, Self.intentDocument(intent, config: config), mode: 0o600)
    }

    /// The config as decoded at create (the bundle may have changed since),
    /// or as `update` left it. Throws SpecError naming the file.
    public func savedConfig() throws -> Spec {
        let tree = try intentTree()
        guard let config = tree["config"] else {
            return try Spec.decode(ConfigLoader.readDocument(legacyConfigPath, file: legacyConfigPath), file: legacyConfigPath)
        }
        do { return try Spec(json: config, path: JSONPath.root.key("config")) } catch var e as SpecError {
            e.file = intentPath
            throw e
        }
    }

    /// Replaces the kept config (`update`), in the file it is in.
    func replaceConfig(_ config: JSONValue) throws {
        guard case .object(var o) = try intentTree(), o["config"] != nil else {
            return try FS.writeAtomically(legacyConfigPath, Array(JSONWriter.compact(config).utf8), mode: 0o600)
        }
        o["config"] = config
        try FS.writeAtomically(intentPath, Array(JSONWriter.compact(.object(o)).utf8), mode: 0o600)
    }

    /// Serialises commands on one container (flock on the directory).
    public func lock() throws {
        if lockFD >= 0 { return }
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { throw RuntimeError.notFound(id: id) }
            throw RuntimeError.syscall(step: "locking container \(id)", call: "open(\(path))", errno: errno)
        }
        while flock(fd, LOCK_EX) < 0 {
            if errno == EINTR { continue }
            let err = errno
            close(fd)
            throw RuntimeError.syscall(step: "locking container \(id)", call: "flock(\(path))", errno: err)
        }
        lockFD = fd
    }

    /// Lets go of the lock (before this directory is opened again: flock
    /// locks of two descriptors of one process exclude each other).
    private func unlock() {
        if lockFD >= 0 { close(lockFD) }
        lockFD = -1
    }

    /// Locks the directory (`lock`) and says whether the one locked is
    /// still the one at `path`, not removed or replaced since it was opened.
    private func lockIfStillInPlace() throws -> Bool {
        try lock()
        var locked = stat(), current = stat()
        guard fstat(lockFD, &locked) == 0, stat(path, &current) == 0 else { return false }
        return locked.st_ino == current.st_ino && locked.st_dev == current.st_dev
    }

    /// What became of the create that made a directory found with no
    /// state.json in it.
    enum CreateOutcome {
        /// The directory is gone, or another is at its path now.
        case replaced
        /// Its creator runs (a create in progress, a foreground run).
        case inProgress(CreateIntent)
        /// state.json is there now: a container like any other.
        case finished
        /// Its creator is gone without writing state.json (nil: no readable
        /// intent). The lock is kept, for the cleanup.
        case died(CreateIntent?)
    }

    /// Judged under the directory's lock and only while it is still the
    /// one at `path`, so that of several commands that found one dead
    /// create's directory one cleans it, and none takes a fresh directory
    /// at the path (and its cgroups) for it. The creator's liveness first,
    /// then state.json: a create writes it before it exits, so looked for
    /// once the creator is seen gone it says whether that create finished.
    func createOutcome() throws -> CreateOutcome {
        do {
            guard try lockIfStillInPlace() else {
                unlock()
                return .replaced
            }
        } catch RuntimeError.notFound { return .replaced }
        let intent = self.intent()
        if let intent, intent.creatorAlive {
            unlock()
            return .inProgress(intent)
        }
        if FS.exists(statePath) {
            unlock()
            return .finished
        }
        return .died(intent)
    }

    /// The container's record; a state.json that cannot be read or is not
    /// this container's is `RuntimeError.corruptState`.
    public func load() throws -> ContainerRecord {
        let record: ContainerRecord
        do {
            record = try ContainerRecord.decode(ConfigLoader.readDocument(statePath, file: statePath), file: statePath)
        } catch let e as SpecError {
            if !FS.exists(statePath) { throw RuntimeError.notFound(id: id) }
            throw RuntimeError.corruptState(id: id, reason: "\(e)")
        }
        if record.id != id {
            var named = ""
            JSONWriter.appendQuoted(record.id, to: &named)
            throw RuntimeError.corruptState(id: id, reason: "\(statePath): id: \(named) is not the directory's name")
        }
        return record
    }

    public func save(_ record: ContainerRecord) throws {
        try FS.writeAtomically(statePath, Array(JSONWriter.compact(record.json).utf8), mode: 0o600)
    }

    public func remove() throws {
        try FS.removeTree(path)
    }
}
