import ApusCLI
import ApusRuntime
import ApusSpec

/// One fuzz input through every decoder that reads a file a user or a tool
/// can write (config.json, process.json, state.json, intent.json) and
/// through the argument parser. Anything but a crash, a hang or a broken
/// invariant is fine: a broken invariant traps, so libFuzzer reports it.
enum Harness {
    static func run(_ bytes: [UInt8]) {
        config(bytes)
        process(bytes)
        document(bytes)
        arguments(bytes)
    }

    /// config.json as `create` reads it, then the model's own round trip.
    static func config(_ bytes: [UInt8]) {
        do {
            let spec = try ConfigLoader.decodeAndValidate(bytes: bytes)
            _ = spec.warnings()
        } catch {
            checkMessage(error)
        }
        guard let spec = try? Spec.decode(bytes) else { return }
        for e in spec.validate() { checkMessage(e) }
        roundTrip(spec)
    }

    /// process.json as `exec -p` reads it (no user means 0:0).
    static func process(_ bytes: [UInt8]) {
        do {
            let p = try Process.decodeForExec(bytes, file: "process.json")
            for e in p.validate(file: "process.json") { checkMessage(e) }
            roundTrip(p)
        } catch {
            checkMessage(error)
        }
    }

    /// The same bytes as the documents apus keeps, and as a JSON tree, from one parse.
    static func document(_ bytes: [UInt8]) {
        let value: JSONValue
        do { value = try JSONParser.parse(bytes) } catch {
            checkMessage(error)
            return
        }
        // The writer's output parses back to the same tree.
        let again = try? JSONParser.parse(Array(JSONWriter.compact(value).utf8))
        require(again == value, "JSONWriter output does not parse back to the same value")
        if let r: ContainerRecord = decoded(value) { roundTrip(r) }
        if let i: CreateIntent = decoded(value) { roundTrip(i) }
    }

    /// NUL-separated argv, parsed as a subcommand's flags (both with and
    /// without reordering) and each word as a signal and a container id.
    static func arguments(_ bytes: [UInt8]) {
        let argv = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        for reorder in [true, false] {
            do {
                let (flags, positionals) = try ArgParser.parse(argv, flags: sampleFlags, reorder: reorder, command: "fuzz")
                for p in positionals { require(argv.contains(p), "positional \(p) is not an argument") }
                for (name, values) in flags.values {
                    require(sampleFlags.contains { $0.primary == name }, "unknown flag \(name) parsed")
                    require(!values.isEmpty, "flag \(name) without a value")
                }
                _ = try? flags.int("preserve-fds")
            } catch {
                checkMessage(error)
            }
        }
        for word in argv.prefix(8) {
            _ = try? Signals.parse(word)
            _ = try? ContainerID.validate(word)
        }
    }

    /// The flag shapes runc's commands have: booleans and values, long and short names.
    static let sampleFlags: [Flag] = [
        .bool("all", "a", help: ""),
        .bool("detach", "d", help: ""),
        .value("bundle", "b", help: ""),
        .value("env", "e", help: ""),
        .value("preserve-fds", help: ""),
        .value("root", help: ""),
    ]

    static func decoded<T: JSONCodable>(_ value: JSONValue) -> T? {
        do { return try T(json: value, path: .root) } catch {
            checkMessage(error)
            return nil
        }
    }

    /// Encoding then decoding gives back the same value.
    static func roundTrip<T: JSONCodable & Equatable>(_ value: T) {
        let text = JSONWriter.indented(value.json)
        let back = try? T.decode(Array(text.utf8))
        require(back == value, "\(T.self) does not survive a round trip through \(text.prefix(200))")
    }

    /// Errors reach the user as one line (`apus: ...`): no control characters
    /// from the input may split or forge it.
    static func checkMessage(_ error: Error) {
        let text = "\(error)"
        require(!text.isEmpty, "empty error message")
        require(!text.unicodeScalars.contains { $0.value < 0x20 }, "control character in error: \(text.debugDescription)")
    }

    static func require(_ ok: Bool, _ what: @autoclosure () -> String) {
        if !ok { fatalError("fuzz invariant broken: \(what())") }
    }
}
