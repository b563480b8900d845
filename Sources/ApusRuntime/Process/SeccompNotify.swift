import ApusSpec
import CApusShim
import Glibc

/// SCMP_ACT_NOTIFY: runc's seccomp-agent protocol. The container process
/// (init or exec'd) loads its filter, hands the listener fd to its apus
/// parent over the sync socket (APUS_SYNC_SECCOMP + SCM_RIGHTS) and waits;
/// the parent connects to `linux.seccomp.listenerPath` and sends, in one
/// message, the container process state as JSON (`ContainerProcessState`:
/// fds ["seccompFd"], the process's pid, listenerMetadata, the container's
/// state) with the fd in SCM_RIGHTS, then lets the process go on. A
/// `listenerPath` with no NOTIFY rule makes no listener and is ignored, as
/// in runc.
enum SeccompNotify {
    /// What the process calls between loading its filter and the agent
    /// having the listener: a NOTIFY rule on them would wait for ever.
    static let handOverSyscalls: Set<String> = ["send", "sendto", "sendmsg"]

    /// Where the parent sends a listener: the agent's socket and what it
    /// is told about the process.
    struct Agent {
        var path: String
        var state: ContainerProcessState

        /// For a container whose profile notifies, else nil.
        init?(_ seccomp: Seccomp?, pid: Int32, state: ContainerState) {
            guard let seccomp, SeccompFilter.notifies(seccomp), let path = seccomp.listenerPath, !path.isEmpty else { return nil }
            self.path = path
            self.state = ContainerProcessState(ociVersion: StateOutput.specVersion, fds: [ContainerProcessState.seccompFdName],
                                               pid: Int(pid), metadata: seccomp.listenerMetadata, state: state)
        }
    }

    // MARK: the container process

    /// Hands the loaded filter's listener (if it made one) to the parent
    /// and waits until the agent has it.
    static func handOver(_ filter: SeccompFilter?, sync: SyncChannel) throws {
        guard let fd = filter?.takeListener() else { return }
        defer { close(fd) }
        try sync.send(APUS_SYNC_SECCOMP)
        try check(apus_send_fd(sync.fd, fd), "handing the seccomp listener to apus", "sendmsg(SCM_RIGHTS)")
        _ = try sync.receive(expecting: APUS_SYNC_SECCOMP_DONE, step: "waiting for the seccomp agent")
    }

    // MARK: the parent

    /// Receives until a message of `type`; a listener on the way goes to
    /// `agent`.
    static func receive(_ channel: SyncChannel, until type: apus_sync_type, step: String, agent: Agent?) throws -> apus_sync_msg {
        while true {
            let msg = try channel.receiveAny(step: step)
            if msg.type == Int32(type.rawValue) { return msg }
            guard msg.type == Int32(APUS_SYNC_SECCOMP.rawValue), let agent else {
                throw RuntimeError.other("\(step): unexpected message \(msg.type) from the container process")
            }
            let fd = apus_recv_fd(channel.fd)
            try check(fd, "receiving the seccomp listener", "recvmsg(SCM_RIGHTS)")
            defer { close(fd) }
            try send(fd, to: agent)
            try channel.send(APUS_SYNC_SECCOMP_DONE)
        }
    }

    /// One message on a new connection to the agent: the state JSON, the
    /// listener in SCM_RIGHTS.
    static func send(_ listener: Int32, to agent: Agent) throws {
        let step = "linux.seccomp.listenerPath: sending the seccomp listener to the agent"
        let sock: Int32
        do {
            sock = try connectUnixSocket(agent.path, what: "seccomp agent")
        } catch RuntimeError.syscall(_, let call, let err) {
            // runc's words: tools and runc's own tests match on them.
            throw RuntimeError.syscall(step: "linux.seccomp.listenerPath: failed to connect with seccomp agent", call: call, errno: err)
        }
        defer { close(sock) }
        let json = Array(JSONWriter.compact(agent.state.json).utf8)
        let rc = json.withUnsafeBytes { apus_send_fd_data(sock, listener, $0.baseAddress, $0.count) }
        try check(rc, step, "sendmsg(\(agent.path), SCM_RIGHTS)")
    }
}
