/// What a cgroup v1 devices controller holds, computed the way the kernel
/// does (and runc's devices emulator): a default, allow-all or deny-all,
/// and exceptions to it, each a match with the access it grants (in
/// deny-all mode) or takes away (in allow-all mode). Both v1 (which writes
/// the difference between two states) and v2 (whose eBPF program encodes
/// one) work from it, so a config means the same on either.
struct DeviceState: Equatable {
    var defaultAllow = false
    var exceptions: [DeviceMatch: DeviceAccess] = [:]
    /// The exceptions in the order the rules made them: the order they are
    /// written in, so devices.list lists them as the config does ("the
    /// runtime MUST apply entries in the listed order"). Not part of ==.
    private(set) var order: [DeviceMatch] = []

    static func == (a: DeviceState, b: DeviceState) -> Bool {
        a.defaultAllow == b.defaultAllow && a.exceptions == b.exceptions
    }

    /// Applies one rule as writing it to devices.allow / devices.deny
    /// would; returns why it cannot be honoured (nil if it can).
    mutating func apply(_ rule: DeviceRule) -> String? {
        guard let match = rule.match else {
            self = DeviceState(defaultAllow: rule.allow)
            return nil
        }
        // An allow in deny-all mode (or a deny in allow-all mode) adds an
        // exception; the other way round it takes access off one.
        if rule.allow != defaultAllow {
            if exceptions[match] == nil { order.append(match) }
            exceptions[match, default: []].formUnion(rule.access)
            return nil
        }
        if let problem = hole(in: match, rule.access) ?? uncovered(by: match, rule.access) { return problem }
        let left = exceptions[match, default: []].subtracting(rule.access)
        exceptions[match] = left.isEmpty ? nil : left
        if left.isEmpty { order.removeAll { $0 == match } }
        return nil
    }

    private var mode: String { defaultAllow ? "denied" : "allowed" }

    /// The kernel takes access off an exception only when the rule names
    /// the same devices: off a wider wildcard it silently does nothing
    /// (runc refuses this too).
    private func hole(in match: DeviceMatch, _ access: DeviceAccess) -> String? {
        let wider = [DeviceMatch(kind: match.kind, major: nil, minor: match.minor),
                     DeviceMatch(kind: match.kind, major: match.major, minor: nil),
                     DeviceMatch(kind: match.kind, major: nil, minor: nil)]
        for w in wider where w != match {
            guard let held = exceptions[w], !held.isDisjoint(with: access) else { continue }
            return "\"\(match.text) \(access.text)\" is inside the \(mode) wildcard \"\(w.text) \(held.text)\" "
                + "of an earlier rule, and the devices cgroup cannot punch a hole in a wildcard"
        }
        return nil
    }

    /// Nor does it take access off narrower exceptions: a deny of "c 10:*"
    /// after an allow of "c 10:237" leaves 10:237 allowed. Refused rather
    /// than ignored (runc accepts it); in allow-all mode the narrower
    /// exception only denies more, which is harmless.
    private func uncovered(by match: DeviceMatch, _ access: DeviceAccess) -> String? {
        guard !defaultAllow else { return nil }
        let narrower = exceptions.filter { $0.key != match && match.covers($0.key) && !$0.value.isDisjoint(with: access) }
        guard let kept = narrower.keys.sorted().first else { return nil }
        return "does not take back \"\(kept.text) \(narrower[kept]!.text)\" allowed by an earlier rule "
            + "(the devices cgroup removes only an identical rule): deny that device by its own numbers"
    }

    /// A devices.list as the kernel prints it: "a *:* rwm" alone in
    /// allow-all mode, else the allowed exceptions.
    init(list: String) throws {
        self.init()
        for line in list.split(separator: "\n") {
            guard let rule = DeviceState.parse(line) else {
                throw RuntimeError.other("devices.list: unexpected line \"\(line)\"")
            }
            _ = apply(rule)
        }
    }

    init(defaultAllow: Bool = false, exceptions: [DeviceMatch: DeviceAccess] = [:]) {
        self.defaultAllow = defaultAllow
        self.exceptions = exceptions
    }

    /// "c 1:3 rwm" → an allow rule; nil if malformed.
    static func parse(_ line: Substring) -> DeviceRule? {
        let f = line.split(whereSeparator: { $0 == " " || $0 == ":" })
        guard f.count == 4 else { return nil }
        let kind: DeviceMatch.Kind
        switch f[0] {
        case "a": return DeviceRule(allow: true, match: nil)
        case "b": kind = .block
        case "c": kind = .char
        default: return nil
        }
        func number(_ s: Substring) -> UInt32?? { s == "*" ? .some(nil) : UInt32(s).map { .some($0) } }
        let access = DeviceAccess(String(f[3]))
        guard let major = number(f[1]), let minor = number(f[2]), !access.isEmpty,
              access.text.count == f[3].count else { return nil }
        return DeviceRule(allow: true, match: DeviceMatch(kind: kind, major: major, minor: minor), access: access)
    }

    /// The rules that take a cgroup in state `self` to `target`, disturbing
    /// as little as possible (runc's Transition): a reset ("a") only when
    /// the default changes or `self` is allow-all (whose deny exceptions
    /// devices.list does not show); then the access each exception loses,
    /// then what each gains, in the order the rules made it (runc sorts;
    /// the spec wants the listed order). Nothing allowed in both states is denied on
    /// the way.
    func transition(to target: DeviceState) -> [DeviceRule] {
        var out: [DeviceRule] = []
        var old = exceptions
        if defaultAllow || defaultAllow != target.defaultAllow {
            out.append(DeviceRule(allow: target.defaultAllow, match: nil))
            old = [:]
        }
        for (m, had) in old.sorted(by: { $0.key < $1.key }) {
            let lost = had.subtracting(target.exceptions[m] ?? [])
            if !lost.isEmpty { out.append(DeviceRule(allow: target.defaultAllow, match: m, access: lost)) }
        }
        for (m, want) in target.orderedExceptions {
            let gained = want.subtracting(old[m] ?? [])
            if !gained.isEmpty { out.append(DeviceRule(allow: !target.defaultAllow, match: m, access: gained)) }
        }
        return out
    }

    /// The exceptions in the order the rules made them (those given to
    /// init(exceptions:) last, sorted).
    var orderedExceptions: [(match: DeviceMatch, access: DeviceAccess)] {
        let made = order.compactMap { m in exceptions[m].map { (m, $0) } }
        let rest = exceptions.filter { !order.contains($0.key) }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return made + rest
    }

    /// The exceptions in runc's order.
    var sortedExceptions: [(match: DeviceMatch, access: DeviceAccess)] {
        exceptions.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
