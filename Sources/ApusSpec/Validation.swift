extension Spec {
    /// Every problem that makes this config unusable on Linux, in document
    /// order, each located by its JSON path; empty means valid. Covers the
    /// runtime-spec's MUSTs plus the checks runc makes before creating a
    /// container. Nothing here touches the system (see `validateNamespacePaths`).
    public func validate() -> [SpecError] {
        var v = Validator(spec: self)
        v.run()
        return v.errors
    }

    /// Things worth logging that the spec or runc tolerate (deprecated or
    /// ignored settings). Never includes anything `validate()` reports.
    public func warnings() -> [SpecError] {
        var v = Validator(spec: self)
        v.run()
        return v.warnings
    }
}

extension Process {
    /// The `process` checks of `Spec.validate()`, for a process given on its
    /// own (`apus exec --process process.json`); paths start at the document root.
    public func validate(file: String = "process.json") -> [SpecError] {
        var v = Validator(spec: Spec(ociVersion: "1.0.0"))
        v.checkProcess(self, .root)
        return v.errors.map { e in var e = e; e.file = file; return e }
    }
}

/// Runs the checks; split by config section across the Validation*.swift files.
struct Validator {
    let spec: Spec
    var errors: [SpecError] = []
    var warnings: [SpecError] = []

    init(spec: Spec) { self.spec = spec }

    mutating func fail(_ path: JSONPath, _ message: String) { errors.append(SpecError(message, at: path)) }
    mutating func warn(_ path: JSONPath, _ message: String) { warnings.append(SpecError(message, at: path)) }

    /// True if `linux.namespaces` lists `type`, whether created or joined
    /// (runc's `Namespaces.Contains`).
    func has(_ type: NamespaceType) -> Bool { spec.linux?.namespace(type) != nil }

    mutating func run() {
        let root = JSONPath.root
        checkVersion(root.key("ociVersion"))
        checkRoot(root.key("root"))
        if let process = spec.process {
            checkProcess(process, root.key("process"))
        } else {
            fail(root.key("process"), "required property is missing")
        }
        checkUTSNames(root)
        for (i, m) in (spec.mounts ?? []).enumerated() { checkMount(m, root.key("mounts").index(i)) }
        if let hooks = spec.hooks { checkHooks(hooks, root.key("hooks")) }
        for key in (spec.annotations ?? [:]).keys where key.isEmpty {
            fail(root.key("annotations").key(key), "key must not be empty")
        }
        if let linux = spec.linux { checkLinux(linux, root.key("linux")) }
    }

    private mutating func checkVersion(_ at: JSONPath) {
        guard let version = SemVer(spec.ociVersion) else {
            fail(at, "\(quoted(spec.ociVersion)) is not a semantic version")
            return
        }
        // The spec is compatible within a major version; Apus implements 1.x.
        if version.major != 1 { fail(at, "unsupported version \(quoted(spec.ociVersion)) (want 1.x)") }
    }

    private mutating func checkRoot(_ at: JSONPath) {
        guard let root = spec.root else { fail(at, "required property is missing"); return }
        if root.path.isEmpty { fail(at.key("path"), "must not be empty") }
        checkNoNUL(root.path, at.key("path"))
    }

    /// runc refuses a hostname or domainname it could only set on the host.
    private mutating func checkUTSNames(_ root: JSONPath) {
        for (key, value) in [("hostname", spec.hostname), ("domainname", spec.domainname)] {
            guard let value, !value.isEmpty else { continue }
            if !has(.uts) { fail(root.key(key), "requires a uts namespace") }
            // sethostname(2)/setdomainname(2) reject names over 64 bytes.
            if value.utf8.count > 64 { fail(root.key(key), "longer than 64 bytes") }
        }
    }

    private mutating func checkMount(_ m: Mount, _ at: JSONPath) {
        if m.destination.isEmpty {
            fail(at.key("destination"), "must not be empty")
        } else if !m.destination.hasPrefix("/") {
            // Linux allows relative destinations (relative to "/"), deprecated.
            warn(at.key("destination"), "relative path \(quoted(m.destination)) is deprecated: taken as \(quoted("/" + m.destination)) inside the rootfs")
        }
        checkNoNUL(m.destination, at.key("destination"))
        if let source = m.source { checkNoNUL(source, at.key("source")) }
        if let type = m.type { checkNoNUL(type, at.key("type")) }
        checkMappingPair(uid: m.uidMappings, gid: m.gidMappings, at)
        let hasMappings = m.uidMappings != nil || m.gidMappings != nil
        for (i, option) in (m.options ?? []).enumerated() where option == "idmap" || option == "ridmap" {
            if !hasMappings && !has(.user) {
                fail(at.key("options").index(i), "\(quoted(option)) requires uidMappings and gidMappings or a user namespace")
            }
        }
    }

    /// Mount id-mappings come in pairs, and no mapping may be empty.
    mutating func checkMappingPair(uid: [IDMapping]?, gid: [IDMapping]?, _ at: JSONPath) {
        if uid != nil && gid == nil { fail(at.key("gidMappings"), "required when uidMappings is set") }
        if gid != nil && uid == nil { fail(at.key("uidMappings"), "required when gidMappings is set") }
        checkMappingSizes(uid, at.key("uidMappings"))
        checkMappingSizes(gid, at.key("gidMappings"))
    }

    mutating func checkMappingSizes(_ mappings: [IDMapping]?, _ at: JSONPath) {
        for (i, m) in (mappings ?? []).enumerated() where m.size == 0 {
            fail(at.index(i).key("size"), "must be greater than zero")
        }
    }

    private mutating func checkHooks(_ hooks: Hooks, _ at: JSONPath) {
        let lists = [("prestart", hooks.prestart), ("createRuntime", hooks.createRuntime),
                     ("createContainer", hooks.createContainer), ("startContainer", hooks.startContainer),
                     ("poststart", hooks.poststart), ("poststop", hooks.poststop)]
        for (name, list) in lists {
            for (i, hook) in (list ?? []).enumerated() {
                let hookAt = at.key(name).index(i)
                checkAbsolute(hook.path, hookAt.key("path"))
                if let timeout = hook.timeout, timeout <= 0 {
                    fail(hookAt.key("timeout"), "must be greater than zero, got \(timeout)")
                }
            }
        }
    }

    // MARK: helpers shared by the section files

    mutating func checkAbsolute(_ path: String, _ at: JSONPath) {
        if !path.hasPrefix("/") { fail(at, "must be an absolute path, got \(quoted(path))") }
        checkNoNUL(path, at)
    }

    /// C strings end at NUL: "a\u0000b" would silently become "a".
    mutating func checkNoNUL(_ s: String, _ at: JSONPath) {
        if s.utf8.contains(0) { fail(at, "must not contain a NUL byte") }
    }

    /// Checks a CPU or node list; nil when absent or empty.
    mutating func checkList(_ text: String?, _ noun: String, _ at: JSONPath) -> [ClosedRange<Int>]? {
        guard let text, !text.isEmpty else { return nil }
        do {
            let ranges = try CPUList.parse(text)
            if ranges.isEmpty { fail(at, "invalid \(noun) list \(quoted(text)): no \(noun)s in it") }
            return ranges
        } catch let e as CPUList.ParseError {
            fail(at, "invalid \(noun) list \(quoted(text)): \(e.message)")
        } catch {}
        return nil
    }
}

/// A string in JSON quotes, escaped so messages stay on one line.
public func quoted(_ s: String) -> String {
    var out = ""
    JSONWriter.appendQuoted(s, to: &out)
    return out
}
