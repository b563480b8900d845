import ApusSpec
import Glibc

/// runc-compatible logging: `--log FILE` with `--log-format text|json`.
/// containerd and conmon read the last error line of the file to tell the
/// user why a command failed.
public struct Logger {
    public enum Format: String { case text, json }
    public var path: String?
    public var format: Format
    public var debugEnabled: Bool

    public init(path: String? = nil, format: Format = .text, debug: Bool = false) {
        self.path = path
        self.format = format
        self.debugEnabled = debug
    }

    public func error(_ msg: String) { write("error", msg) }
    public func warning(_ msg: String) { write("warning", msg) }
    public func debug(_ msg: @autoclosure () -> String) { if debugEnabled { write("debug", msg()) } }

    /// Errors and warnings also go to stderr (as `apus: ...`) when the log is a file.
    public var logsToFile: Bool { path != nil && path != "/dev/stderr" }

    /// runc opens `--log FILE` before any command runs: the file exists
    /// (empty when nothing was logged) after every command, and a path that
    /// cannot be opened is an error before anything is done.
    public func openFile() throws {
        guard logsToFile, let path else { return }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw RuntimeError.syscall(step: "opening the log file", call: "open(\(path))", errno: errno) }
        close(fd)
    }

    private func write(_ level: String, _ msg: String) {
        let time = String(Timestamp.now().split(separator: ".").first ?? "")
        let stamp = time.hasSuffix("Z") ? time : time + "Z"
        var line = ""
        switch format {
        case .json:
            var o = ObjectBuilder()
            o.set("level", level)
            o.set("msg", msg)
            o.set("time", stamp)
            line = JSONWriter.compact(o.json)
        case .text:
            line = "time=\"\(stamp)\" level=\(level) msg="
            JSONWriter.appendQuoted(msg, to: &line)
        }
        line += "\n"
        guard let path, path != "/dev/stderr" else {
            writeStderr(line)
            return
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { writeStderr(line); return }
        defer { close(fd) }
        try? FS.writeAll(fd, Array(line.utf8), path: path)
    }
}
