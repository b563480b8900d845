import Glibc

/// Reads, decodes and validates a bundle's config.json.
public enum ConfigLoader {
    /// Real configs are a few KiB (podman's with a full seccomp profile is
    /// under 100 KiB); the cap keeps a hostile file from costing gigabytes.
    public static let maxConfigSize = 16 << 20

    /// Loads `path`, throwing a `SpecError` for the first problem found.
    public static func load(path: String) throws -> Spec {
        try decodeAndValidate(bytes: readDocument(path))
    }

    /// Decodes `bytes`, then throws the first of `validate()`'s errors, if any.
    public static func decodeAndValidate(bytes: [UInt8]) throws -> Spec {
        let spec = try decode(bytes: bytes)
        if let first = spec.validate().first { throw first }
        return spec
    }

    /// Reads and decodes `path` without validating it (`apus check` lists
    /// every validation error itself).
    public static func decode(path: String) throws -> Spec {
        try decode(bytes: readDocument(path))
    }

    private static func decode(bytes: [UInt8]) throws -> Spec {
        if bytes.count > maxConfigSize { throw tooLarge() }
        return try Spec.decode(bytes)
    }

    private static func tooLarge(_ file: String = "config.json") -> SpecError {
        SpecError("file is larger than \(maxConfigSize >> 20) MiB", at: .root, file: file)
    }

    /// Reads a JSON document apus is given or keeps (config.json,
    /// process.json, state.json) at most maxConfigSize bytes of it. Only a
    /// regular file will do: a FIFO would block (it is opened non-blocking
    /// to find out), a device such as /dev/zero never ends. A FIFO for which
    /// `isPipe` holds (an anonymous pipe the caller hands over: `exec -p
    /// /dev/fd/N` from a shell's process substitution, as runc's tests do)
    /// is read to its end; a named FIFO still is not. Errors name `file`.
    public static func readDocument(_ path: String, file: String = "config.json",
                                    isPipe: (Int32) -> Bool = { _ in false }) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else { throw SpecError("cannot open \(quoted(path)): \(errnoText(errno))", at: .root, file: file) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SpecError("cannot stat \(quoted(path)): \(errnoText(errno))", at: .root, file: file) }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw SpecError("\(quoted(path)) is a directory", at: .root, file: file)
        case S_IFIFO where isPipe(fd):
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        default: throw SpecError("\(quoted(path)) is not a regular file", at: .root, file: file)
        }
        if st.st_size > maxConfigSize { throw tooLarge(file) }
        // Sized from fstat (documents are small); a file growing while it is
        // read is still cut off at the cap.
        let limit = maxConfigSize + 1
        var bytes = [UInt8](repeating: 0, count: min(limit, max(Int(st.st_size) + 1, 4096)))
        var count = 0
        while count < limit {
            if count == bytes.count { bytes += [UInt8](repeating: 0, count: min(bytes.count, limit - bytes.count)) }
            let n = bytes.withUnsafeMutableBytes { buf in read(fd, buf.baseAddress! + count, buf.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SpecError("cannot read \(quoted(path)): \(errnoText(errno))", at: .root, file: file)
            }
            if n == 0 { break }
            count += n
        }
        if count > maxConfigSize { throw tooLarge(file) }
        bytes.removeSubrange(count...)
        return bytes
    }
}
