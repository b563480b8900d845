import CApusShim
import Glibc

/// Tells when the kernel's OOM killer acts in a container's memory cgroup,
/// through one fd for the caller's poll loop (no thread):
/// - v1: an eventfd registered on memory.oom_control with
///   cgroup.event_control; the kernel signals it before it kills, and also
///   when the cgroup is removed (then cgroup.event_control is gone);
/// - v2: inotify on memory.events, whose oom_kill count goes up.
struct OOMWatcher {
    enum Source {
        case v1(dir: String, eventFD: Int32, controlFD: Int32)
        case v2(dir: String, inotifyFD: Int32)
    }

    let source: Source
    /// v2: the oom_kill count already reported.
    private var killed: UInt64 = 0

    /// The fd to poll for POLLIN.
    var fd: Int32 {
        switch source {
        case .v1(_, let efd, _): return efd
        case .v2(_, let ifd): return ifd
        }
    }

    /// nil when the container has no memory cgroup to watch (a cgroup2
    /// without the memory controller).
    static func open(_ paths: [String: String]) throws -> OOMWatcher? {
        if let dir = Cgroups.v1Dir(paths, "memory") { return try openV1(dir) }
        if let dir = paths["unified"], FS.exists(dir + "/memory.events") { return try openV2(dir) }
        return nil
    }

    private static func openV1(_ dir: String) throws -> OOMWatcher {
        let control = Glibc.open(dir + "/memory.oom_control", O_RDONLY | O_CLOEXEC)
        try check(control, "watching for OOM kills", "open(\(dir)/memory.oom_control)")
        let efd = apus_eventfd()
        guard efd >= 0 else {
            let err = errno
            Glibc.close(control)
            throw RuntimeError.syscall(step: "watching for OOM kills", call: "eventfd()", errno: err)
        }
        do {
            try FS.write(dir + "/cgroup.event_control", "\(efd) \(control)")
        } catch {
            Glibc.close(efd)
            Glibc.close(control)
            throw error
        }
        return OOMWatcher(source: .v1(dir: dir, eventFD: efd, controlFD: control))
    }

    private static func openV2(_ dir: String) throws -> OOMWatcher {
        let ifd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        try check(ifd, "watching for OOM kills", "inotify_init1()")
        if inotify_add_watch(ifd, dir + "/memory.events", UInt32(IN_MODIFY)) < 0 {
            let err = errno
            Glibc.close(ifd)
            throw RuntimeError.syscall(step: "watching for OOM kills", call: "inotify_add_watch(\(dir)/memory.events)", errno: err)
        }
        var w = OOMWatcher(source: .v2(dir: dir, inotifyFD: ifd))
        w.killed = w.killCount() ?? 0
        return w
    }

    func close() {
        switch source {
        case .v1(_, let efd, let control):
            Glibc.close(efd)
            Glibc.close(control)
        case .v2(_, let ifd):
            Glibc.close(ifd)
        }
    }

    /// After `fd` polled readable (or, with `final`, once more before the
    /// stream ends: a v2 notification can lag the kill): whether an OOM
    /// kill happened since the last call, and whether the cgroup is gone.
    mutating func collect() -> (oom: Bool, gone: Bool) {
        switch source {
        case .v1(let dir, let efd, _):
            guard apus_read_counter(efd) > 0 else { return (false, false) }
            // The removal of the cgroup signals the eventfd too.
            guard FS.exists(dir + "/cgroup.event_control") else { return (false, true) }
            return (true, false)
        case .v2(_, let ifd):
            drain(ifd)
            guard let count = killCount() else { return (false, true) }
            defer { killed = count }
            return (count > killed, false)
        }
    }

    /// memory.events' oom_kill (v2); nil once the file is gone.
    private func killCount() -> UInt64? {
        guard case .v2(let dir, _) = source, let text = try? FS.readString(dir + "/memory.events") else { return nil }
        return CgroupFile.value(text, key: "oom_kill") ?? 0
    }

    /// Reads every pending inotify event: only "memory.events changed" is
    /// watched, so their contents do not matter.
    private func drain(_ ifd: Int32) {
        var buf = [UInt8](repeating: 0, count: 4096)
        while buf.withUnsafeMutableBytes({ Glibc.read(ifd, $0.baseAddress, $0.count) }) > 0 {}
    }
}
