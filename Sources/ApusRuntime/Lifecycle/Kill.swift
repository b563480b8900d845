import ApusSpec
import CApusShim
import Glibc

extension Runtime {
    /// `apus kill`: signals the init (through a pidfd, so a reused pid is
    /// never hit) or, with --all, every process in the container's cgroup.
    public func kill(id: String, signal: Int32, all: Bool) throws {
        let dir = try store.open(id)
        let record = try dir.load()
        let status = record.currentStatus(dir: dir)
        if status == .stopped && !all { throw RuntimeError.other("container not running") }
        try KernelSupport.check()
        if all {
            for pid in Cgroups.pids(record.cgroupPaths) { Glibc.kill(pid, signal) }
        } else {
            try signalInit(record, signal)
        }
        // A paused container only acts on SIGKILL once thawed (runc does the same).
        if signal == SIGKILL && status == .paused { thawIfFrozen(record) }
    }

    func signalInit(_ record: ContainerRecord, _ signal: Int32) throws {
        let pidfd = apus_pidfd_open(record.pid)
        if pidfd < 0 {
            if errno == ESRCH { throw RuntimeError.other("container not running") }
            throw RuntimeError.syscall(step: "signalling the container", call: "pidfd_open(\(record.pid))", errno: errno)
        }
        defer { close(pidfd) }
        guard record.initPresent else {
            throw RuntimeError.other("container not running")
        }
        if apus_pidfd_send_signal(pidfd, signal) < 0 {
            if errno == ESRCH { throw RuntimeError.other("container not running") }
            throw RuntimeError.syscall(step: "signalling the container", call: "pidfd_send_signal(\(record.pid), \(signal))", errno: errno)
        }
    }
}
