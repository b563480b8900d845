import ApusSpec
import CApusShim
import Glibc

/// Forks a process into namespaces through the shim and drives the first
/// half of the sync protocol (user-namespace maps, cgroup join, the final
/// pid). Used by `create` for the container's init and by `exec`.
struct Spawner {
    /// CLONE_NEW* namespaces to create.
    var cloneFlags: Int32 = 0
    /// Namespaces to join, user namespace first.
    var join: [(type: NamespaceType, path: String)] = []
    var timeOffsets = ""
    /// Written from outside when a user namespace is created.
    var uidMappings: [IDMapping]?
    var gidMappings: [IDMapping]?
    var cgroupPaths: [String: String] = [:]
    /// Puts stage 1 (and so the init it forks) in its cgroups instead of
    /// joining `cgroupPaths` (the systemd driver starts a scope with it).
    var joinCgroups: ((pid_t) throws -> Void)?
    /// A pidfd of a process whose namespaces (`joinFlags`) are joined at once
    /// (exec); the caller keeps ownership.
    var joinPidFD: Int32 = -1
    var joinFlags: Int32 = 0

    /// The pids to kill if the caller fails half-way.
    struct Children {
        var stage1: pid_t = 0
        var pid: pid_t = 0

        mutating func reapStage1() {
            guard stage1 > 0 else { return }
            var status: Int32 = 0
            while waitpid(stage1, &status, 0) < 0 && errno == EINTR {}
            stage1 = 0
        }

        mutating func kill() {
            for p in [pid, stage1] where p > 0 {
                Glibc.kill(p, SIGKILL)
                var status: Int32 = 0
                while waitpid(p, &status, 0) < 0 && errno == EINTR {}
            }
            pid = 0
            stage1 = 0
        }
    }

    /// Runs `child` in the new process (it must not return); returns the
    /// parent's end of the sync socket, with the process's pid in `children`.
    func spawn(_ children: inout Children, child: (SyncChannel) -> Never) throws -> SyncChannel {
        try SealedExecutable.assertSingleThreaded()
        let (parentEnd, childEnd) = try SyncChannel.pair()
        var fds: [Int32] = []
        defer { fds.forEach { close($0) } }
        for (type, path) in join {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                let err = errno
                parentEnd.close()
                childEnd.close()
                throw RuntimeError.syscall(step: "joining \(type.rawValue) namespace", call: "open(\(path))", errno: err)
            }
            fds.append(fd)
        }
        var cfg = apus_spawn_config()
        cfg.clone_flags = cloneFlags
        cfg.sync_fd = childEnd.fd
        cfg.parent_sync_fd = parentEnd.fd
        cfg.join_pidfd = joinPidFD
        cfg.join_pidfd_flags = joinFlags
        cfg.dumpable_for_maps = geteuid() != 0 ? 1 : 0
        // No user or time namespace to set up from outside, nothing to
        // join: the init is cloned at once, with no stage 1 in between.
        let staged = NamespaceType.user.cloneFlag | NamespaceType.time.cloneFlag
        let direct = cloneFlags & staged == 0 && join.isEmpty && joinPidFD < 0 && joinCgroups == nil
        cfg.direct = direct ? 1 : 0
        cfg.join_count = Int32(fds.count)
        withUnsafeMutableBytes(of: &cfg.join_fds) { raw in
            for (i, fd) in fds.enumerated() { raw.storeBytes(of: fd, toByteOffset: i * 4, as: Int32.self) }
        }
        withUnsafeMutableBytes(of: &cfg.join_types) { raw in
            for (i, j) in join.enumerated() { raw.storeBytes(of: j.type.cloneFlag, toByteOffset: i * 4, as: Int32.self) }
        }
        // Signals are blocked only around the fork, so that no handler runs
        // in a half-made child; both sides go back to the caller's mask.
        var all = sigset_t(), old = sigset_t()
        sigfillset(&all)
        sigprocmask(SIG_BLOCK, &all, &old)
        let stage1 = timeOffsets.withCString { offsets -> pid_t in
            cfg.timens_offsets = offsets
            return apus_spawn(&cfg)
        }
        let forkErrno = errno
        sigprocmask(SIG_SETMASK, &old, nil)
        if stage1 == 0 {
            // (stage 1 already closed the parent's end of the socket)
            child(childEnd)
        }
        errno = forkErrno
        childEnd.close()
        if stage1 < 0 {
            let err = errno
            parentEnd.close()
            throw RuntimeError.syscall(step: "starting the container process", call: "fork()", errno: err)
        }
        if direct {
            children.pid = stage1
            do {
                try Cgroups.join(pid: stage1, cgroupPaths)
                try parentEnd.send(APUS_SYNC_USERNS_DONE)
            } catch {
                parentEnd.close()
                throw error
            }
            return parentEnd
        }
        children.stage1 = stage1
        do {
            let ready = try parentEnd.receive(expecting: APUS_SYNC_USERNS_READY, step: "joining namespaces")
            if cloneFlags & NamespaceType.user.cloneFlag != 0 {
                try IDMaps.write(pid: ready.value, uid: uidMappings, gid: gidMappings)
            }
            if let joinCgroups { try joinCgroups(stage1) } else { try Cgroups.join(pid: stage1, cgroupPaths) }
            try parentEnd.send(APUS_SYNC_USERNS_DONE)
            children.pid = try parentEnd.receive(expecting: APUS_SYNC_INIT_PID, step: "creating namespaces").value
            children.reapStage1()
        } catch {
            parentEnd.close()
            throw error
        }
        return parentEnd
    }
}
