import Glibc

/// Reads, decodes and validates a bundle's config.json.
public enum ConfigLoader {
    /// Real configs are a few KiB (podman's with a full seccomp profile is
    /// under 100 KiB); the cap keeps a hostile file from costing gigabytes.
    public static let maxConfigSize = 16 << 20

    /// Loads `path`, throwing a `SpecError` for the first problem found.
    public static func load(path: String) throws -> Spec {
        try decodeAndValidate(bytes: readFile(path))
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
        try decode(bytes: readFile(path))
    }

    private static func decode(bytes: [UInt8]) throws -> Spec {
        if bytes.count > maxConfigSize { throw tooLarge }
        return try Spec.decode(bytes)
    }

    private static var tooLarge: SpecError {
        SpecError("file is larger than \(maxConfigSize >> 20) MiB", at: .root)
    }

    /// Reads at most maxConfigSize + 1 bytes, so an endless file (a FIFO,
    /// /dev/zero) cannot make Apus read forever.
    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw SpecError("cannot open \(quoted(path)): \(errnoText(errno))", at: .root) }
        defer { close(fd) }
        var st = stat()
        if fstat(fd, &st) == 0 {
            if st.st_mode & S_IFMT == S_IFDIR { throw SpecError("\(quoted(path)) is a directory", at: .root) }
            if st.st_size > maxConfigSize { throw tooLarge }
        }
        // Size the buffer from fstat (configs are small): zero-filling the
        // whole 16 MiB cap up front would cost milliseconds on every create.
        let limit = maxConfigSize + 1
        var bytes = [UInt8](repeating: 0, count: min(limit, max(Int(st.st_size) + 1, 4096)))
        var count = 0
        while count < limit {
            if count == bytes.count { bytes += [UInt8](repeating: 0, count: min(bytes.count, limit - bytes.count)) }
            let n = bytes.withUnsafeMutableBytes { buf in read(fd, buf.baseAddress! + count, buf.count - count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SpecError("cannot read \(quoted(path)): \(errnoText(errno))", at: .root)
            }
            if n == 0 { break }
            count += n
        }
        if count > maxConfigSize { throw tooLarge }
        bytes.removeSubrange(count...)
        return bytes
    }
}
