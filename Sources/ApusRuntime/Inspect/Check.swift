import ApusSpec
import Glibc

/// `apus check`: a bundle judged without creating anything (no namespace,
/// mount, cgroup or state). Every error `create` would stop at, the
/// warnings (what `create` skips or ignores) and the risks of the config.
public struct CheckReport {
    public struct Problem: Equatable {
        public var path: String
        public var message: String

        /// As `create` prints it: "config.json: mounts[3].destination: ...".
        public var description: String {
            var e = SpecError(message, at: .root)
            e.path = path
            return e.description
        }

        public var json: JSONValue {
            var b = ObjectBuilder()
            b.set("path", path)
            b.set("message", message)
            return b.json
        }
    }

    public var errors: [Problem] = []
    public var warnings: [Problem] = []
    public var risks: [Risk] = []

    /// The stable format for tools (README: "apus check --format json").
    public var json: JSONValue {
        var b = ObjectBuilder()
        b.set("errors", errors.map { $0.json })
        b.set("warnings", warnings.map { $0.json })
        b.set("risks", risks.map { $0.json })
        return b.json
    }
}

public enum Check {
    public static func run(bundle: String) -> CheckReport {
        run(bundle: bundle, host: .live)
    }

    static func run(bundle path: String, host: HostProbe) -> CheckReport {
        var report = CheckReport()
        func fail(_ path: String, _ message: String) { report.errors.append(.init(path: path, message: message)) }
        guard FS.isDirectory(path) else {
            fail("", "bundle \(path): \(FS.exists(path) ? "not a directory" : "no such directory")")
            return report
        }
        let bundle = (try? FS.realpath(path)) ?? path
        let spec: Spec
        do { spec = try ConfigLoader.decode(path: bundle + "/config.json") } catch let e as SpecError {
            fail(e.path, e.message)
            return report
        } catch {
            fail("", "\(error)")
            return report
        }
        report.errors += spec.validate().map { .init(path: $0.path, message: $0.message) }
        report.warnings += spec.warnings().map { .init(path: $0.path, message: $0.message) }
        report.errors += hostProblems(spec, bundle: bundle, host: host)
        for unknown in spec.linux?.seccomp.map(SeccompFilter.unknownSyscalls) ?? [] {
            report.warnings.append(.init(path: unknown.path, message: "\(quoted(unknown.name)) is not a syscall libseccomp \(SeccompLibrary.version) knows: the filter skips it"))
        }
        report.risks = Risks.evaluate(IsolationFacts(config: spec, bundle: bundle, host: host))
        return report
    }

    /// What `create` would refuse on this host, found read-only.
    static func hostProblems(_ spec: Spec, bundle: String, host: HostProbe) -> [CheckReport.Problem] {
        var out = Support.problems(spec)
        out += CgroupResources.problems(spec.linux?.resources, hierarchies: Cgroups.hierarchies())
        do { _ = try Cgroups.paths(cgroupsPath: spec.linux?.cgroupsPath, id: "check") } catch let e as RuntimeError { out.append(e) } catch {}
        var problems = out.map(problem)
        problems += capabilityProblems(spec.process?.capabilities, host: host)
        for (i, m) in (spec.mounts ?? []).enumerated() {
            guard let source = ConfigMount.hostSource(m, bundle: bundle), host.kind(source) == nil else { continue }
            problems.append(.init(path: "mounts[\(i)].source", message: "bind source \(quoted(source)) does not exist"))
        }
        problems += rootfsProblems(spec, bundle: bundle, host: host)
        return problems
    }

    static func problem(_ e: RuntimeError) -> CheckReport.Problem {
        switch e {
        case .unsupported(let path, let reason): return .init(path: path, message: reason)
        case .config(let s): return .init(path: s.path, message: s.message)
        default: return .init(path: "", message: e.description)
        }
    }

    /// Capabilities this kernel does not have (capset(2) would drop them
    /// silently), and capabilities of the effective, permitted and
    /// inheritable sets that the caller cannot grant (capset fails).
    static func capabilityProblems(_ caps: LinuxCapabilities?, host: HostProbe) -> [CheckReport.Problem] {
        let sets: [(String, [Capability]?, Bool)] = [("bounding", caps?.bounding, false), ("effective", caps?.effective, true),
                                                     ("inheritable", caps?.inheritable, true), ("permitted", caps?.permitted, true),
                                                     ("ambient", caps?.ambient, false)]
        return sets.flatMap { name, list, granted in
            (list ?? []).enumerated().compactMap { i, cap -> CheckReport.Problem? in
                let at = "process.capabilities.\(name)[\(i)]"
                if cap.number > host.lastCap {
                    return .init(path: at, message: "\(cap.rawValue) is not known to this kernel (its last capability is \(host.lastCap))")
                }
                if granted && !host.capabilities.contains(cap) {
                    return .init(path: at, message: Capabilities.notGrantable(cap))
                }
                return nil
            }
        }
    }

    /// The rootfs is a directory, and process.args[0] is found in it as
    /// `create` will look for it: the container's PATH and cwd, symlinks
    /// resolved inside the rootfs, a bind mount's source where one covers it.
    static func rootfsProblems(_ spec: Spec, bundle: String, host: HostProbe) -> [CheckReport.Problem] {
        guard let root = spec.root?.path, !root.isEmpty else { return [] }
        let rootfs = root.hasPrefix("/") ? root : FS.join(bundle, root)
        guard host.kind(rootfs) == .directory else {
            return [.init(path: "root.path", message: "\(quoted(rootfs)) is not a directory")]
        }
        guard let process = spec.process, let name = process.args?.first, !name.isEmpty,
              let safe = try? SafePath(rootfs: rootfs) else { return [] }
        defer { safe.close() }
        let probe = { (path: String) in programProbe(path, cwd: process.cwd, mounts: spec.mounts ?? [], bundle: bundle, safe: safe) }
        do { _ = try ProcessSetup.lookPath(name, env: process.env ?? [], probe: probe) } catch {
            return [.init(path: "process.args[0]", message: "not found in the rootfs: \(error)")]
        }
        return []
    }

    private static func programProbe(_ path: String, cwd: String, mounts: [Mount], bundle: String, safe: SafePath) -> ProcessSetup.Candidate {
        let full = path.hasPrefix("/") ? path : FS.join(cwd, path)
        // The last mount over the path decides what create will see there.
        let over = mounts.last { m in
            let d = m.destination.hasPrefix("/") ? m.destination : "/" + m.destination
            return !m.destination.isEmpty && (full == d || full.hasPrefix(d.hasSuffix("/") ? d : d + "/"))
        }
        if let over {
            guard let source = ConfigMount.hostSource(over, bundle: bundle) else { return .executable } // made at create: unknown now
            let d = over.destination.hasPrefix("/") ? over.destination : "/" + over.destination
            return ProcessSetup.probe(source + full.dropFirst(d.count))
        }
        let fd: Int32?
        do { fd = try safe.open(full) } catch RuntimeError.syscall(_, _, let err) { return .missing(err) } catch { return .missing(EINVAL) }
        guard let fd else { return .missing(ENOENT) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .missing(errno) }
        if (st.st_mode & S_IFMT) != S_IFREG { return .notRegular }
        return st.st_mode & 0o111 == 0 ? .notExecutable(EACCES) : .executable
    }
}
