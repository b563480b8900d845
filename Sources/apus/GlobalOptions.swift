import ApusCLI
import ApusRuntime

/// Global flags, as runc 1.1/1.2 has them.
struct GlobalOptions {
    var root = StateStore.defaultRoot
    /// The default root under $XDG_RUNTIME_DIR (made sticky, as runc does).
    var rootFromXDG = false
    var logPath: String?
    var logFormat = Logger.Format.text
    var debug = false
    var systemdCgroup = false
    var rootless = "auto"
    var criu = "criu"

    static let flags: [Flag] = [
        .bool("debug", help: "enable debug logging"),
        .value("log", help: "set the log file to write apus logs to (default is '/dev/stderr')"),
        .value("log-format", help: "set the log format ('text' (default), or 'json')"),
        .value("root", help: "root directory for storage of container state (default: \"/run/apus\", or $XDG_RUNTIME_DIR/apus when not root)"),
        .value("criu", help: "path to the criu binary used for checkpoint and restore (default: \"criu\")"),
        .bool("systemd-cgroup", help: "enable systemd cgroup support, expects cgroupsPath to be of form \"slice:prefix:name\" for e.g. \"system.slice:runc:434234\""),
        .value("rootless", help: "ignore cgroup permission errors ('true', 'false', or 'auto')"),
        .bool("help", "h", help: "show help"),
        .bool("version", "v", help: "print the version"),
    ]

    init(_ f: ParsedFlags) throws {
        if let r = f.string("root") { root = r } else { (root, rootFromXDG) = Rootless.defaultRoot() }
        logPath = f.string("log")
        if let fmt = f.string("log-format") {
            guard let v = Logger.Format(rawValue: fmt) else {
                throw UsageError(message: "invalid log-format: \(fmt)", command: nil)
            }
            logFormat = v
        }
        debug = f.bool("debug")
        systemdCgroup = f.bool("systemd-cgroup")
        if let r = f.string("rootless") {
            guard ["true", "false", "auto"].contains(r) else {
                throw UsageError(message: "invalid value for --rootless: \(r)", command: nil)
            }
            rootless = r
        }
        if let c = f.string("criu") { criu = c }
    }

    var logger: Logger { Logger(path: logPath, format: logFormat, debug: debug) }
}
