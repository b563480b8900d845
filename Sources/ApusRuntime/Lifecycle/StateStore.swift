import ApusSpec
import CApusShim
import Glibc

/// The state root (`--root`, default /run/apus): one directory per container
/// holding `state.json` (written atomically), a copy of the config, and the
/// exec fifo while the container is `created`.
public struct StateStore {
    public let root: String
    public static let defaultRoot = "/run/apus"

    public init(root: String) { self.root = root }

    public func path(of id: String) -> String { root + "/" + id }

    /// Creates the container's directory holding `intent` from its first
    /// moment: it is made under a private name and renamed into place with
    /// RENAME_NOREPLACE, so of two concurrent creates of one id exactly one
    /// wins, and no reader ever sees the directory without its intent.
    /// A directory left by a create that died half-way is cleaned up
    /// (`removeHalfCreated`) and the claim retried once.
    public func claim(_ id: String, intent: CreateIntent, cleanup: (ContainerDir, CreateIntent?) throws -> Void) throws -> ContainerDir {
        try ContainerID.validate(id)
        try FS.mkdirAll(root, mode: 0o700)
        let dir = path(of: id)
        // One create per process: the pid names its staging directory.
        let staging = root + "/.claim-\(getpid())"
        var made = mkdir(staging, 0o711) == 0
        if !made && errno == EEXIST {
            // A leftover of a dead apus that had our pid is no one's any more.
            try FS.removeTree(staging)
            made = mkdir(staging, 0o711) == 0
        }
        if !made { throw RuntimeError.syscall(step: "creating state directory", call: "mkdir(\(staging))", errno: errno) }
        do {
            try FS.writeAtomically(staging + "/" + ContainerDir.intentName, Array(JSONWriter.compact(intent.json).utf8), mode: 0o600)
            for attempt in 0..<2 {
                if apus_rename_noreplace(staging, dir) == 0 { return try ContainerDir(id: id, path: dir) }
                guard errno == EEXIST || errno == ENOTEMPTY else {
                    throw RuntimeError.syscall(step: "creating state directory", call: "renameat2(\(dir), RENAME_NOREPLACE)", errno: errno)
                }
                let existing = try ContainerDir(id: id, path: dir)
                guard attempt == 0, !FS.exists(existing.statePath) else { break }
                let other = existing.intent()
                if other?.creatorAlive == true { break }
                try cleanup(existing, other)
            }
            throw RuntimeError.exists(id: id)
        } catch {
            try? FS.removeTree(staging)
            throw error
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
    public var configPath: String { path + "/config.json" }
    public var fifoPath: String { path + "/exec.fifo" }
    static let intentName = "intent.json"
    public var intentPath: String { path + "/" + Self.intentName }

    /// The intent of the create that made this directory (nil if unreadable).
    public func intent() -> CreateIntent? {
        guard let bytes = try? FS.readIfExists(intentPath) else { return nil }
        return try? CreateIntent.decode(bytes, file: intentPath)
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

    public func load() throws -> ContainerRecord {
        guard let bytes = try FS.readIfExists(statePath) else { throw RuntimeError.notFound(id: id) }
        do { return try ContainerRecord.decode(bytes, file: statePath) } catch let e as SpecError {
            throw RuntimeError.other("corrupt container state: \(e)")
        }
    }

    public func save(_ record: ContainerRecord) throws {
        try FS.writeAtomically(statePath, Array(JSONWriter.compact(record.json).utf8), mode: 0o600)
    }

    public func remove() throws {
        try FS.removeTree(path)
    }
}
