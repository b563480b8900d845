import ApusSpec
import Glibc

/// The state root (`--root`, default /run/apus): one directory per container
/// holding `state.json` (written atomically), a copy of the config, and the
/// exec fifo while the container is `created`.
public struct StateStore {
    public let root: String
    public static let defaultRoot = "/run/apus"

    public init(root: String) { self.root = root }

    public func path(of id: String) -> String { root + "/" + id }

    /// Creates the container's directory. mkdir is atomic, so of two
    /// concurrent creates of one id exactly one wins.
    public func claim(_ id: String) throws -> ContainerDir {
        try ContainerID.validate(id)
        try FS.mkdirAll(root, mode: 0o700)
        let dir = path(of: id)
        if mkdir(dir, 0o711) < 0 {
            if errno == EEXIST { throw RuntimeError.exists(id: id) }
            throw RuntimeError.syscall(step: "creating state directory", call: "mkdir(\(dir))", errno: errno)
        }
        return try ContainerDir(id: id, path: dir)
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
