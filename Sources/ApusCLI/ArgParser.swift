/// A small declarative argument parser with runc's (urfave/cli v1) rules:
/// `-flag` and `--flag`, `=value` or a separate value, boolean flags that
/// take only `=true|false`, and known flags allowed after positional
/// arguments (they are moved in front) unless the command keeps its
/// arguments raw. After a positional, an unknown `-x` is an argument
/// (`kill ID -9` passes "-9" on, as in runc).
public struct Flag {
    public let names: [String]
    public let takesValue: Bool
    public let help: String

    public init(names: [String], takesValue: Bool, help: String) {
        self.names = names
        self.takesValue = takesValue
        self.help = help
    }

    public static func bool(_ names: String..., help: String) -> Flag { Flag(names: names, takesValue: false, help: help) }
    public static func value(_ names: String..., help: String) -> Flag { Flag(names: names, takesValue: true, help: help) }

    public var primary: String { names[0] }
}

public enum ArgCount {
    case exactly(Int), atLeast(Int), between(Int, Int)

    public func accepts(_ n: Int) -> Bool {
        switch self {
        case .exactly(let k): return n == k
        case .atLeast(let k): return n >= k
        case .between(let a, let b): return n >= a && n <= b
        }
    }

    /// runc's wording for a wrong argument count.
    public func complaint(_ n: Int) -> String {
        switch self {
        case .exactly(let k): return "exactly \(k)"
        case .atLeast(let k): return "a minimum of \(k)"
        case .between(let a, let b): return n < a ? "a minimum of \(a)" : "a maximum of \(b)"
        }
    }
}

public struct UsageError: Error {
    public let message: String
    public let command: String?
    public var exitCode: Int32
    /// First line of the help printed on stdout; default: "Incorrect Usage: <message>".
    public var banner: String?
    /// A global flag was wrong: the global help follows on stdout.
    public var global = false

    public init(message: String, command: String?, exitCode: Int32 = 1, banner: String? = nil) {
        self.message = message
        self.command = command
        self.exitCode = exitCode
        self.banner = banner
    }
}

public struct ParsedFlags {
    public var values: [String: [String]] = [:]

    public func string(_ name: String) -> String? { values[name]?.last }
    public func strings(_ name: String) -> [String] { values[name] ?? [] }
    public func bool(_ name: String) -> Bool { values[name]?.last == "true" }
    public func has(_ name: String) -> Bool { values[name] != nil }

    public func int(_ name: String) throws -> Int? {
        guard let s = string(name) else { return nil }
        guard let v = Int(s) else {
            throw UsageError(message: "invalid value \"\(s)\" for flag -\(name): parse error", command: nil)
        }
        return v
    }
}

public enum ArgParser {
    /// Parses `args` against `flags`. Stops at the first positional when
    /// `reorder` is false (exec's command line belongs to the container).
    public static func parse(_ args: [String], flags: [Flag], reorder: Bool, command: String?) throws -> (ParsedFlags, [String]) {
        var parsed = ParsedFlags()
        var positionals: [String] = []
        var i = 0
        while i < args.count {
            let arg = args[i]
            i += 1
            if arg == "--" { positionals += args[i...]; break }
            guard arg.hasPrefix("-"), arg != "-" else {
                positionals.append(arg)
                if !reorder { positionals += args[i...]; break }
                continue
            }
            var body = arg.dropFirst(arg.hasPrefix("--") ? 2 : 1)
            var inlineValue: String?
            if let eq = body.firstIndex(of: "=") {
                inlineValue = String(body[body.index(after: eq)...])
                body = body[..<eq]
            }
            let name = String(body)
            guard let flag = flags.first(where: { $0.names.contains(name) }) else {
                if !positionals.isEmpty { positionals.append(arg); continue }
                throw UsageError(message: "flag provided but not defined: -\(name)", command: command)
            }
            if flag.takesValue {
                if inlineValue == nil {
                    guard i < args.count else {
                        throw UsageError(message: "flag needs an argument: -\(name)", command: command)
                    }
                    inlineValue = args[i]
                    i += 1
                }
                parsed.values[flag.primary, default: []].append(inlineValue!)
            } else {
                let v = inlineValue ?? "true"
                guard v == "true" || v == "false" || v == "1" || v == "0" else {
                    throw UsageError(message: "invalid boolean value \"\(v)\" for -\(name): parse error", command: command)
                }
                parsed.values[flag.primary, default: []].append(v == "1" ? "true" : v == "0" ? "false" : v)
            }
        }
        return (parsed, positionals)
    }

    public static func helpText(_ flags: [Flag]) -> String {
        let rows = flags.map { f -> (String, String) in
            let names = f.names.map { ($0.count == 1 ? "-" : "--") + $0 + (f.takesValue ? " value" : "") }
            return (names.joined(separator: ", "), f.help)
        }
        let width = rows.map { $0.0.count }.max() ?? 0
        return rows.map { "   " + $0.0 + String(repeating: " ", count: width - $0.0.count + 2) + $0.1 }
            .joined(separator: "\n")
    }
}
