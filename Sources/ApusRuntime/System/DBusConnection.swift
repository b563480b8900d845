import Glibc

/// A blocking D-Bus connection over a Unix socket: SASL EXTERNAL auth,
/// method calls and waiting for a signal, every wait bounded by a deadline
/// (poll). Single-threaded, no Foundation; messages are DBusMessage.swift's.
struct DBusConnection {
    let fd: Int32
    let step: String
    private var serial: UInt32 = 0
    private var buffer: [UInt8] = []
    /// Signals that arrived while a reply was awaited, oldest first.
    private var queued: [DBusMessage] = []

    /// Connects and authenticates (as our uid, from the socket's credentials).
    /// On the bus daemon's socket (not systemd's private one) call `hello`.
    init(path: String, step: String, timeoutMS: Int) throws {
        fd = try connectUnixSocket(path, what: "systemd manager")
        self.step = step
        do {
            try authenticate(deadline: Deadline(milliseconds: timeoutMS))
        } catch is TimedOut {
            Glibc.close(fd)
            throw RuntimeError.other("\(step): timed out authenticating to \(path)")
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    func close() { Glibc.close(fd) }

    /// The hex-encoded decimal uid, as AUTH EXTERNAL wants it.
    static func authLine(uid: uid_t) -> String {
        let hex = Array("0123456789abcdef".utf8)
        let id = String(uid).utf8.map { b -> String in
            String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
        }.joined()
        return "AUTH EXTERNAL \(id)\r\n"
    }

    /// BEGIN goes with AUTH, as sd-bus's own clients send it: sent after
    /// the OK, systemd's server can read it in one go with the first
    /// message and then leave that message unanswered (measured: StopUnit
    /// never replied to).
    private mutating func authenticate(deadline: Deadline) throws {
        try send([0] + Array((Self.authLine(uid: getuid()) + "BEGIN\r\n").utf8))
        let line = try readLine(deadline: deadline)
        guard line.hasPrefix("OK ") else {
            throw RuntimeError.other("\(step): authentication refused by the D-Bus peer: \(line)")
        }
    }

    private mutating func readLine(deadline: Deadline) throws -> String {
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[..<nl]
                buffer.removeSubrange(...nl)
                return String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
            }
            guard buffer.count < 4096 else { throw RuntimeError.other("\(step): authentication line too long") }
            try fill(deadline: deadline)
        }
    }

    private func send(_ bytes: [UInt8]) throws {
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RuntimeError.syscall(step: step, call: "send(D-Bus)", errno: errno)
            }
            done += n
        }
    }

    /// Reads whatever is there, waiting at most until the deadline.
    private mutating func fill(deadline: Deadline) throws {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let left = deadline.remainingMilliseconds
            guard left > 0 else { throw TimedOut() }
            let rc = poll(&p, 1, left)
            if rc < 0 && errno == EINTR { continue }
            if rc < 0 { throw RuntimeError.syscall(step: step, call: "poll(D-Bus)", errno: errno) }
            if rc > 0 { break }
        }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 && errno != EINTR && errno != EAGAIN { throw RuntimeError.syscall(step: step, call: "recv(D-Bus)", errno: errno) }
        if n == 0 { throw RuntimeError.other("\(step): systemd closed the D-Bus connection") }
        if n > 0 { buffer.append(contentsOf: chunk[..<n]) }
    }

    private mutating func receive(deadline: Deadline) throws -> DBusMessage {
        while true {
            do {
                if let total = try DBusMessage.length(prefix: buffer[...]), buffer.count >= total {
                    let bytes = Array(buffer[..<total])
                    buffer.removeSubrange(..<total)
                    return try DBusMessage.decode(bytes)
                }
            } catch let e as DBusError {
                throw RuntimeError.other("\(step): \(e)")
            }
            try fill(deadline: deadline)
        }
    }

    /// Sends a method call and returns its reply (an error reply throws
    /// DBusError.reply). Signals arriving meanwhile are kept for `waitSignal`.
    mutating func call(_ message: DBusMessage, deadline: Deadline) throws -> DBusMessage {
        do { return try exchange(message, deadline: deadline) } catch is TimedOut {
            throw RuntimeError.other("\(step): timed out waiting for systemd's reply to \(message.member ?? "a call")")
        }
    }

    private mutating func exchange(_ message: DBusMessage, deadline: Deadline) throws -> DBusMessage {
        var m = message
        serial += 1
        m.serial = serial
        try send(m.encode())
        while true {
            let r = try receive(deadline: deadline)
            switch r.kind {
            case .signal: queued.append(r)
            case .methodCall: continue  // nothing is exported here; systemd does not call us
            case .methodReturn, .error:
                guard r.replySerial == m.serial else { continue }
                if r.kind == .error {
                    throw DBusError.reply(name: r.errorName ?? "", message: r.body.first?.string ?? "")
                }
                return r
            }
        }
    }

    /// The first signal (queued or new) for which `matches` is true, or nil
    /// when the deadline passes first.
    mutating func waitSignal(deadline: Deadline, _ matches: (DBusMessage) -> Bool) throws -> DBusMessage? {
        if let i = queued.firstIndex(where: matches) { return queued.remove(at: i) }
        queued.removeAll()
        while true {
            let m: DBusMessage
            do { m = try receive(deadline: deadline) } catch is TimedOut { return nil }
            if m.kind == .signal && matches(m) { return m }
        }
    }
}

private struct TimedOut: Error {}
