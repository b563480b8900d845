import Glibc

/// Small, Foundation-free file helpers. Every failure names the step and the
/// syscall so the user sees exactly what went wrong.
public enum FS {
    public static func read(_ path: String, limit: Int = 64 << 20) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        try check(fd, "reading \(path)", "open(\(path))")
        defer { close(fd) }
        return try readAll(fd, path: path, limit: limit)
    }

    public static func readAll(_ fd: Int32, path: String, limit: Int = 64 << 20) throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RuntimeError.syscall(step: "reading \(path)", call: "read(\(path))", errno: errno)
            }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > limit {
                throw RuntimeError.other("\(path): file is larger than \(limit >> 20) MiB")
            }
        }
    }

    public static func readString(_ path: String) throws -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// nil when the file does not exist.
    public static func readIfExists(_ path: String) throws -> [UInt8]? {
        do { return try read(path) } catch RuntimeError.syscall(_, _, let err) where err == ENOENT { return nil }
    }

    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RuntimeError.syscall(step: "writing \(path)", call: "write(\(path))", errno: errno)
            }
            offset += n
        }
    }

    /// Writes an existing file (cgroup knobs, /proc files) in one write(2),
    /// since the kernel parses each write separately.
    public static func write(_ path: String, _ text: String, flags: Int32 = O_WRONLY) throws {
        let fd = open(path, flags | O_CLOEXEC, 0o644)
        try check(fd, "writing \(path)", "open(\(path))")
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n != bytes.count {
            throw RuntimeError.syscall(step: "writing \(path)", call: "write(\(path), \"\(text.prefix(64))\")", errno: n < 0 ? errno : EIO)
        }
    }

    /// Temp file + fsync-free rename: readers see the old or the new file, never half of one.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws {
        let tmp = path + ".tmp\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        try check(fd, "writing \(path)", "open(\(tmp))")
        do {
            try writeAll(fd, bytes, path: tmp)
            close(fd)
            try check(rename(tmp, path), "writing \(path)", "rename(\(tmp), \(path))")
        } catch {
            close(fd)
            unlink(tmp)
            throw error
        }
    }

    /// A file that must not exist yet, in a directory no one else looks at
    /// (a staging directory): no temporary name and rename needed.
    public static func writeNew(_ path: String, _ bytes: [UInt8], mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        try check(fd, "writing \(path)", "open(\(path))")
        defer { close(fd) }
        try writeAll(fd, bytes, path: path)
    }

    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func mkdirAll(_ path: String, mode: mode_t = 0o755) throws {
        if path.isEmpty || isDirectory(path) { return }
        let parent = dirname(path)
        if parent != path { try mkdirAll(parent, mode: mode) }
        if mkdir(path, mode) < 0 && errno != EEXIST {
            throw RuntimeError.syscall(step: "creating directory", call: "mkdir(\(path))", errno: errno)
        }
    }

    public static func listDirectory(_ path: String) throws -> [String] {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try check(fd, "listing \(path)", "opendir(\(path))")
        defer { close(fd) }
        return try listDirectory(fd: fd, path: path)
    }

    /// The names in the directory open at `fd` (which stays open), sorted.
    public static func listDirectory(fd: Int32, path: String) throws -> [String] {
        try entries(fd: fd, path: path).map(\.name).sorted()
    }

    /// The names of the directories in `path` (no symlinks followed), from
    /// readdir's d_type: no stat per entry (a cgroup holds dozens of files).
    public static func subdirectories(_ path: String) throws -> [String] {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try check(fd, "listing \(path)", "opendir(\(path))")
        defer { close(fd) }
        return try entries(fd: fd, path: path).filter { e in
            if e.type != UInt8(DT_UNKNOWN) { return e.type == UInt8(DT_DIR) }
            var st = stat()
            return fstatat(fd, e.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
        }.map(\.name)
    }

    private static func entries(fd: Int32, path: String) throws -> [(name: String, type: UInt8)] {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 3)
        try check(copy, "listing \(path)", "dup(\(path))")
        guard let dir = fdopendir(copy) else {
            let err = errno
            close(copy)
            throw RuntimeError.syscall(step: "listing \(path)", call: "fdopendir(\(path))", errno: err)
        }
        defer { closedir(dir) }
        // The copy shares the offset of `fd`, which an earlier listing left at the end.
        rewinddir(dir)
        var out: [(name: String, type: UInt8)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { out.append((name, entry.pointee.d_type)) }
        }
        return out
    }

    /// Removes a directory tree without following symlinks. Used for state
    /// directories, which only Apus writes.
    public static func removeTree(_ path: String) throws {
        var st = stat()
        if lstat(path, &st) < 0 {
            if errno == ENOENT { return }
            throw RuntimeError.syscall(step: "removing \(path)", call: "lstat(\(path))", errno: errno)
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            for name in try listDirectory(path) { try removeTree(path + "/" + name) }
            if rmdir(path) < 0 && errno != ENOENT {
                throw RuntimeError.syscall(step: "removing \(path)", call: "rmdir(\(path))", errno: errno)
            }
        } else if unlink(path) < 0 && errno != ENOENT {
            throw RuntimeError.syscall(step: "removing \(path)", call: "unlink(\(path))", errno: errno)
        }
    }

    /// A symlink's target (a /proc magic link's too), relative to `dirFD`
    /// (default: the cwd), read without following it; nil if unreadable.
    public static func readLink(at dirFD: Int32 = AT_FDCWD, _ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: 4097)
        let n = readlinkat(dirFD, path, &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func realpath(_ path: String) throws -> String {
        guard let p = Glibc.realpath(path, nil) else {
            throw RuntimeError.syscall(step: "resolving \(path)", call: "realpath(\(path))", errno: errno)
        }
        defer { free(p) }
        return String(cString: p)
    }

    public static func cwd() -> String {
        guard let p = getcwd(nil, 0) else { return "." }
        defer { free(p) }
        return String(cString: p)
    }

    public static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : join(cwd(), path)
    }

    public static func join(_ a: String, _ b: String) -> String {
        if b.hasPrefix("/") { return a.hasSuffix("/") ? a + b.dropFirst() : a + b }
        return a.hasSuffix("/") ? a + b : a + "/" + b
    }

    /// The path with "." and ".." resolved lexically, absolute ("/a/./b/../c" → "/a/c").
    public static func clean(_ path: String) -> String {
        var parts: [Substring] = []
        for c in path.split(separator: "/") {
            if c == "." { continue }
            if c == ".." { _ = parts.popLast(); continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    public static func dirname(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }
}

/// A point in time on the monotonic clock, for bounded waits.
struct Deadline {
    let end: Int64 // milliseconds

    init(seconds: Int) { end = Deadline.now() + Int64(min(seconds, Int(Int32.max / 1000))) * 1000 }
    init(milliseconds: Int) { end = Deadline.now() + Int64(milliseconds) }

    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Milliseconds left (0 when passed), in poll(2)'s type.
    var remainingMilliseconds: Int32 { Int32(clamping: max(0, end - Deadline.now())) }
}
