import Glibc

extension Spec {
    /// Checks on the live system that every namespace `path` opens and is a
    /// namespace of the declared type (the spec's MUST), and that `net.*`
    /// sysctls do not target the runtime's own network namespace (runc's
    /// rule). Separate from `validate()` because it depends on the machine.
    public func validateNamespacePaths() -> [SpecError] {
        var errors: [SpecError] = []
        let at = JSONPath.root.key("linux").key("namespaces")
        for (i, ns) in (linux?.namespaces ?? []).enumerated() {
            guard let path = ns.joinPath else { continue }
            let here = at.index(i).key("path")
            switch NamespaceFile.type(at: path) {
            case .failure(let problem):
                errors.append(SpecError(problem.message(path), at: here))
            case .success(let found) where found != ns.type:
                errors.append(SpecError("\(quoted(path)) is not a \(ns.type.rawValue) namespace (it is \(found.rawValue))", at: here))
            case .success:
                break
            }
        }
        // A namespaced sysctl written in a namespace joined by path that is
        // apus's own would change the host's value (runc refuses net.*).
        for key in (linux?.sysctl ?? [:]).keys.sorted() {
            guard let type = Validator.sysctlNamespace(Validator.sysctlDotted(key)),
                  let path = linux?.namespace(type)?.joinPath,
                  NamespaceFile.isSame(path, "/proc/self/ns/\(type.procName)") else { continue }
            errors.append(SpecError("not allowed in the host \(type.rawValue) namespace",
                                    at: JSONPath.root.key("linux").key("sysctl").key(key)))
        }
        return errors
    }
}

/// Identifies nsfs files (/proc/PID/ns/*, or bind mounts of them).
public enum NamespaceFile {
    enum Problem: Error {
        case cannotOpen(Int32)
        case notNamespace

        func message(_ path: String) -> String {
            switch self {
            case .cannotOpen(let err): return "cannot open \(quoted(path)): \(errnoText(err))"
            case .notNamespace: return "\(quoted(path)) is not a namespace file"
            }
        }
    }

    static let NS_GET_NSTYPE: UInt = 0xb703

    static func type(at path: String) -> Result<NamespaceType, Problem> {
        var st = stat()
        guard stat(path, &st) == 0 else { return .failure(.cannotOpen(errno)) }
        // nsfs inodes are regular files; refusing the rest first means a FIFO
        // or device at `path` can neither block the open nor react to it.
        guard st.st_mode & S_IFMT == S_IFREG else { return .failure(.notNamespace) }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { return .failure(.cannotOpen(errno)) }
        defer { close(fd) }
        let flag = ioctl(fd, NS_GET_NSTYPE)
        if flag > 0 {
            guard let t = NamespaceType.allCases.first(where: { $0.cloneFlag == flag }) else { return .failure(.notNamespace) }
            return .success(t)
        }
        // Kernels before 4.11 lack NS_GET_NSTYPE; nsfs links read "net:[4026531993]".
        guard let link = readLink("/proc/self/fd/\(fd)"), let colon = link.firstIndex(of: ":"),
              link[colon...].hasPrefix(":["),
              let t = NamespaceType.allCases.first(where: { $0.procName == link[..<colon] })
        else { return .failure(.notNamespace) }
        return .success(t)
    }

    /// True if both paths name the same namespace (same device and inode).
    public static func isSame(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    private static func readLink(_ path: String) -> String? {
        var buf = [UInt8](repeating: 0, count: 256)
        let n = buf.withUnsafeMutableBufferPointer { b in
            b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { readlink(path, $0, b.count) }
        }
        guard n > 0 else { return nil }
        return String(decoding: buf[..<n], as: UTF8.self)
    }
}

/// strerror(3), lowercased to fit the message style ("no such file or directory").
func errnoText(_ err: Int32) -> String {
    guard let s = strerror(err) else { return "errno \(err)" }
    let text = String(cString: s)
    guard let first = text.first else { return text }
    return first.lowercased() + text.dropFirst()
}
