import CApusShim
import Glibc

/// The socketpair between `apus create` and the container's child stages.
/// Messages are fixed-size (SOCK_SEQPACKET keeps them whole); the child
/// reports failures as APUS_SYNC_ERROR with errno and the failed step.
struct SyncChannel {
    let fd: Int32

    static func pair() throws -> (parent: SyncChannel, child: SyncChannel) {
        var fds: [Int32] = [-1, -1]
        try check(socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds),
                  "creating sync socket", "socketpair(AF_UNIX, SOCK_SEQPACKET)")
        return (SyncChannel(fd: fds[0]), SyncChannel(fd: fds[1]))
    }

    func send(_ type: apus_sync_type, value: Int32 = 0, text: String? = nil) throws {
        let rc: Int32
        if let text { rc = apus_sync_send(fd, Int32(type.rawValue), value, text) }
        else { rc = apus_sync_send(fd, Int32(type.rawValue), value, nil) }
        try check(rc, "talking to the container", "send(sync socket)")
    }

    /// Receives the next message; a child's error report or an early EOF
    /// becomes the error the user sees.
    func receive(expecting type: apus_sync_type, step: String) throws -> apus_sync_msg {
        let msg = try receiveAny(step: step)
        if msg.type != Int32(type.rawValue) {
            throw RuntimeError.other("\(step): unexpected message \(msg.type) from the container process")
        }
        return msg
    }

    /// The next message, whatever its type (errors and EOF as above).
    func receiveAny(step: String) throws -> apus_sync_msg {
        var msg = apus_sync_msg()
        let rc = apus_sync_recv(fd, &msg)
        if rc < 0 { throw RuntimeError.syscall(step: step, call: "recv(sync socket)", errno: errno) }
        if rc == 0 { throw RuntimeError.initFailed(step: "\(step): the container process exited", errno: 0) }
        if msg.type == Int32(APUS_SYNC_ERROR.rawValue) {
            throw RuntimeError.initFailed(step: Self.text(of: msg), errno: msg.value)
        }
        return msg
    }

    static func text(of msg: apus_sync_msg) -> String {
        withUnsafeBytes(of: msg.text) { raw in
            String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
        }
    }

    func close() { _ = Glibc.close(fd) }
}
