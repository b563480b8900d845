import ApusCLI
import ApusRuntime
import ApusSpec
import CApusShim
import Glibc

/// apus: parse argv, call the runtime, print, exit. Nothing else lives here.
let appVersion = "0.1.0"

func versionText() -> String {
    let commit = String(cString: apus_build_commit())
    return "apus version \(appVersion)\ncommit: \(commit)\nspec: \(Spec.version)\nlibseccomp: \(SeccompLibrary.version)\n"
}

func appHelp() -> String {
    let names = commands.map { $0.name }
    let width = (names.map { $0.count }.max() ?? 0) + 2
    let list = commands.map { "   " + $0.name + String(repeating: " ", count: width - $0.name.count) + $0.summary }
    return """
    NAME:
       apus - Open Container Initiative runtime, written in Swift

    USAGE:
       apus [global options] command [command options] [arguments...]

    VERSION:
       \(appVersion)

    COMMANDS:
    \(list.joined(separator: "\n"))
       help, h     Shows a list of commands or help for one command

    GLOBAL OPTIONS:
    \(ArgParser.helpText(GlobalOptions.flags))

    """
}

func commandHelp(_ c: Command) -> String {
    var text = "NAME:\n   apus \(c.name) - \(c.summary)\n\nUSAGE:\n   apus \(c.name) [command options] \(c.usage)\n"
    if !c.flags.isEmpty { text += "\nOPTIONS:\n" + ArgParser.helpText(c.flags) + "\n" }
    return text
}

/// A runtime failure with a specific exit status (exec's 255).
struct ExitError: Error {
    let message: String
    let code: Int32
}

/// Errors go to stderr as `apus: ...` and, with --log, to the log file in
/// runc's format too (containerd and conmon show its last error line).
func fail(_ message: String, logger: Logger, code: Int32 = 1) -> Never {
    if logger.logsToFile { logger.error(message) }
    Output.stderr("apus: \(message)\n")
    exit(code)
}

func main() -> Never {
    let argv = Array(CommandLine.arguments.dropFirst())
    var logger = Logger()
    do {
        // Global flags come before the subcommand (no reordering there).
        let (gflags, rest): (ParsedFlags, [String])
        do { (gflags, rest) = try ArgParser.parse(argv, flags: GlobalOptions.flags, reorder: false, command: nil) } catch var e as UsageError {
            e.global = true
            throw e
        }
        let global = try GlobalOptions(gflags)
        try global.logger.openFile()
        logger = global.logger
        if gflags.bool("version") { Output.stdout(versionText()); exit(0) }
        guard let name = rest.first, !gflags.bool("help") else { Output.stdout(appHelp()); exit(0) }
        if name == "help" || name == "h" {
            guard rest.count > 1 else { Output.stdout(appHelp()); exit(0) }
            guard let c = commands.first(where: { $0.name == rest[1] }) else {
                throw UsageError(message: "No help topic for '\(rest[1])'", command: nil, exitCode: 3)
            }
            Output.stdout(commandHelp(c))
            exit(0)
        }
        guard let command = commands.first(where: { $0.name == name }) else {
            throw UsageError(message: "No help topic for '\(name)'", command: nil, exitCode: 3)
        }
        let (flags, args) = try ArgParser.parse(Array(rest.dropFirst()), flags: command.flags + [.bool("help", "h", help: "show help")],
                                                reorder: command.reorder, command: command.name)
        if flags.bool("help") { Output.stdout(commandHelp(command)); exit(0) }
        guard command.args.accepts(args.count) else {
            throw UsageError(message: "\"\(command.name)\" requires \(command.args.complaint(args.count)) argument(s)",
                             command: command.name, banner: "Incorrect Usage.")
        }
        guard let handler = command.run else {
            fail("\(command.name) is not implemented yet in apus", logger: logger)
        }
        exit(try handler(Invocation(global: global, flags: flags, args: args)))
    } catch let e as UsageError {
        if let c = e.command, let command = commands.first(where: { $0.name == c }) {
            Output.stdout((e.banner ?? "Incorrect Usage: \(e.message)") + "\n\n" + commandHelp(command))
        } else if e.global {
            Output.stdout("Incorrect Usage. \(e.message)\n\n" + appHelp())
        }
        fail(e.message, logger: logger, code: e.exitCode)
    } catch let e as ExitError {
        fail(e.message, logger: logger, code: e.code)
    } catch {
        fail("\(error)", logger: logger)
    }
}

main()
