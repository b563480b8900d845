import ApusSpec
import Glibc

/// Everything that can go wrong in the runtime, with the context a user
/// needs to act on it. `description` is what `apus` prints after `apus: `.
public enum RuntimeError: Error, CustomStringConvertible {
    /// A failed system call: `creating state directory: mkdir(/run/apus/x): Permission denied`.
    case syscall(step: String, call: String, errno: Int32)
    case config(SpecError)
    /// A config property Apus understands but cannot honour (yet or here).
    case unsupported(path: String, reason: String)
    case invalidID(String, reason: String)
    case notFound(id: String)
    case exists(id: String)
    /// A state directory whose state.json (or saved config) cannot be used.
    case corruptState(id: String, reason: String)
    case wrongStatus(id: String, status: ContainerStatus, wanted: String)
    case hook(kind: String, index: Int, path: String, reason: String)
    case bundle(path: String, reason: String)
    case usage(String)
    case initFailed(step: String, errno: Int32)
    /// A safety check refused to go on: something in the rootfs or on the
    /// host is not what it must be (a symlinked /proc, a fake /dev/null, ...).
    case unsafe(step: String, reason: String)
    case other(String)

    public var description: String {
        switch self {
        case .syscall(let step, let call, let err):
            return "\(step): \(call): \(errnoText(err))"
        case .config(let e):
            return e.description
        case .unsupported(let path, let reason):
            return "config.json: \(path): \(reason)"
        case .invalidID(let id, let reason):
            return id.isEmpty ? "container id cannot be empty" : "invalid container ID format: \"\(id)\": \(reason)"
        case .notFound:
            return "container does not exist"
        case .exists(let id):
            return "container with given ID already exists: \(id)"
        case .corruptState(_, let reason):
            return "corrupt container state: \(reason)"
        case .wrongStatus(let id, let status, let wanted):
            return "container \(id) is \(status.rawValue), \(wanted)"
        case .hook(let kind, let index, let path, let reason):
            return "error running hook #\(index) (\(kind) \(path)): \(reason)"
        case .bundle(let path, let reason):
            return "bundle \(path): \(reason)"
        case .usage(let text):
            return text
        case .initFailed(let step, let err):
            return err == 0 ? "container init: \(step)" : "container init: \(step): \(errnoText(err))"
        case .unsafe(let step, let reason):
            return "\(step): \(reason)"
        case .other(let text):
            return text
        }
    }
}

public func errnoText(_ err: Int32) -> String {
    guard let s = strerror(err) else { return "errno \(err)" }
    return String(cString: s)
}

/// errnoText as Go (runc) prints it, "no such file or directory": for the
/// messages callers match on (dockerd's exit codes for a failed start).
func goErrnoText(_ err: Int32) -> String {
    let text = errnoText(err)
    guard let first = text.first else { return text }
    return first.lowercased() + text.dropFirst()
}

/// Wraps a Glibc call that returns -1 and sets errno.
@discardableResult
func check<T: BinaryInteger>(_ result: T, _ step: @autoclosure () -> String, _ call: @autoclosure () -> String) throws -> T {
    if result < 0 { throw RuntimeError.syscall(step: step(), call: call(), errno: errno) }
    return result
}
