import ApusSpec
import CApusShim
import Glibc

extension Runtime {
    /// `apus delete`: a stopped or created container goes at once; a
    /// running or paused one only with --force (SIGKILL first).
    public func delete(id: String, force: Bool) throws {
        let dir: ContainerDir
        do { dir = try store.open(id) } catch RuntimeError.notFound where force {
            // Like runc: --force on a container that is gone is not an error.
            // A create that died half-way leaves processes, cgroups and a
            // directory: its intent says what to remove.
            let path = store.path(of: id)
            store.removeDeadClaims()
            guard FS.exists(path) else { return }
            let half = try ContainerDir(id: id, path: path)
            if FS.exists(half.statePath) { return try delete(id: id, force: force) }
            switch try half.createOutcome() {
            case .replaced, .finished: return try delete(id: id, force: force) // as any container
            case .inProgress(let intent): throw Self.stillBeingCreated(id, intent)
            case .died(let intent): try removeHalfCreated(half, intent)
            }
            return
        }
        let record: ContainerRecord
        do {
            try dir.lock()
            record = try dir.load()
        } catch RuntimeError.notFound where force {
            return // deleted by a concurrent delete while we waited for the lock
        } catch RuntimeError.corruptState(_, let reason) where force {
            // Unreadable state: what the create's intent names is removed,
            // as for a create that died half-way (runc cannot delete it at all).
            log.warning("container \(id): removing it despite its corrupt state: \(reason)")
            try removeHalfCreated(dir, intentOfEndedCreate(dir))
            return
        }
        let status = record.currentStatus(dir: dir)
        switch status {
        case .stopped: break
        case .created: try killAndWait(record)
        case .running, .paused, .creating:
            if !force { throw RuntimeError.other("cannot delete container \(id) that is not stopped: \(status.rawValue)") }
            try killAndWait(record)
        }
        log.debug("delete \(id): was \(status.rawValue), init \(record.pid)")
        try destroy(dir, record)
    }

    /// Removes what a container holds: leftover processes and cgroups, then
    /// poststop hooks, then the state directory.
    func destroy(_ dir: ContainerDir, _ record: ContainerRecord) throws {
        if let ns = record.pidNamespace {
            // Its own processes are those of its pid namespace; others may
            // share the cgroups (runc: the same): remove what is empty, warn
            // about the rest.
            for pid in Cgroups.pids(record.cgroupPaths) where Cgroups.pidNamespace(of: pid) == ns { Glibc.kill(pid, SIGKILL) }
            thawIfFrozen(record)
            if let unit = record.systemdUnit { stopUnit(unit, id: record.id) }
            if let busy = try Cgroups.removeIfEmpty(record.cgroupPaths) {
                log.warning("container \(record.id): cgroup \(busy) is still in use by other processes; left in place")
            }
        } else {
            for pid in Cgroups.pids(record.cgroupPaths) { Glibc.kill(pid, SIGKILL) }
            thawIfFrozen(record)
            if let unit = record.systemdUnit { stopUnit(unit, id: record.id) }
            try Cgroups.destroy(record.cgroupPaths)
        }
        if let resctrl = Resctrl.mounted(), let rdt = (try? savedSpec(dir))?.linux?.intelRdt {
            resctrl.remove(rdt, id: record.id)
        }
        if let bind = record.callerRootfsMount { try CallerNamespaceMounts.detach(rootfs: record.rootfs, bind: bind) }
        if record.hasPoststopHooks, let spec = try? savedSpec(dir) {
            Hooks.runWarning(.poststop, hooks: spec.hooks, state: StateOutput.oci(record, status: .stopped)) {
                log.warning($0)
            }
        }
        try dir.remove()
    }

    /// The directory's own intent (nil if unreadable), unless the apus that
    /// wrote it still runs (a create in progress, a foreground run).
    func intentOfEndedCreate(_ dir: ContainerDir) throws -> CreateIntent? {
        let intent = dir.intent()
        if let intent, intent.creatorAlive { throw Self.stillBeingCreated(dir.id, intent) }
        return intent
    }

    static func stillBeingCreated(_ id: String, _ intent: CreateIntent) -> RuntimeError {
        RuntimeError.other("container \(id) is still being created (by apus pid \(intent.creatorPID))")
    }

    /// Removes what a dead create made: every process in its cgroups (the
    /// init and anything it started joined them), the cgroups, the directory.
    func removeHalfCreated(_ dir: ContainerDir, _ intent: CreateIntent?) throws {
        try intent?.removeCgroups()
        if let unit = intent?.systemdUnit { stopUnit(unit, id: dir.id) }
        try intent?.detachCallerMounts()
        try dir.remove()
    }

    /// Stops the container's systemd scope (what is left in it is killed)
    /// and waits for it to go; if systemd cannot be reached the cgroups are
    /// still removed by hand, with a warning.
    func stopUnit(_ unit: String, id: String) {
        do { try SystemdCgroup.stop(unit: unit) } catch {
            log.warning("container \(id): stopping systemd unit \(unit): \(error)")
        }
    }

    /// Frozen tasks do not act on SIGKILL until thawed.
    func thawIfFrozen(_ record: ContainerRecord) {
        if Cgroups.isFrozen(paths: record.cgroupPaths) { try? Freezer.set(record.cgroupPaths, frozen: false) }
    }

    func killAndWait(_ record: ContainerRecord) throws {
        // A pidfd of the verified init (nil if it is gone already): it turns
        // readable when the init exits, so the wait ends at that event
        // rather than at the next 5 ms look at /proc.
        let pidfd = try? openInit(record, step: "deleting the container")
        defer { if let pidfd { close(pidfd) } }
        if let pidfd { _ = apus_pidfd_send_signal(pidfd, SIGKILL) }
        for pid in Cgroups.pids(record.cgroupPaths) where record.pidNamespace.map({ Cgroups.pidNamespace(of: pid) == $0 }) ?? true {
            Glibc.kill(pid, SIGKILL)
        }
        thawIfFrozen(record)
        guard let pidfd else { return }
        var pfd = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
        var ready = poll(&pfd, 1, 5000)
        while ready < 0 && errno == EINTR { ready = poll(&pfd, 1, 5000) }
        if ready > 0 { return }
        // The init is usually not our child: watch /proc until it is gone (or a zombie).
        for _ in 0..<1000 {
            guard record.initAlive else { return }
            usleep(5000)
        }
        throw RuntimeError.other("container init \(record.pid) did not die after SIGKILL")
    }
}
