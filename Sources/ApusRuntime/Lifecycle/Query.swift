import ApusSpec
import Glibc

extension Runtime {
    /// `apus state`: on orchestrators' hot path, so no lock, one small read.
    public func state(id: String) throws -> JSONValue {
        let dir = try store.open(id)
        let record = try dir.load()
        return StateOutput.runcState(record, status: record.currentStatus(dir: dir))
    }

    /// `apus ps`: the pids in the container's cgroup (host pid namespace).
    public func processes(id: String) throws -> [Int32] {
        let dir = try store.open(id)
        let record = try dir.load()
        return Cgroups.pids(record.cgroupPaths).sorted()
    }

    /// runc's table form: `ps` (default `-ef`) filtered to the container's
    /// processes, located by the PID column of its header.
    public func processTable(id: String, psArgs: [String]) throws -> String {
        let pids = Set(try processes(id: id))
        let (status, output) = try Subprocess.capture(["ps"] + (psArgs.isEmpty ? ["-ef"] : psArgs))
        if status != 0 { throw RuntimeError.other("ps \(psArgs.joined(separator: " ")) failed: \(Hooks.describe(status: status))") }
        var lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return "" }
        let header = lines.removeFirst()
        guard let column = header.split(separator: " ").firstIndex(of: "PID") else {
            throw RuntimeError.other("couldn't find PID field in ps output")
        }
        let rows = lines.filter { line in
            let fields = line.split(separator: " ")
            return fields.count > column && Int32(fields[column]).map(pids.contains) == true
        }
        return ([header] + rows).joined(separator: "\n") + "\n"
    }

    public struct Summary {
        public var record: ContainerRecord
        public var status: ContainerStatus
    }

    /// `apus list`: containers whose state can be read; a container deleted
    /// while we look is skipped, one whose state cannot be read is passed to
    /// `unreadable` (runc warns and lists the others).
    public func list(unreadable: (String, Error) -> Void = { _, _ in }) throws -> [Summary] {
        var out: [Summary] = []
        for id in try store.ids() {
            do {
                // ids() has just seen its state.json: no second look.
                try ContainerID.validate(id)
                let dir = try ContainerDir(id: id, path: store.path(of: id))
                let record = try dir.load()
                out.append(Summary(record: record, status: record.currentStatus(dir: dir)))
            } catch RuntimeError.notFound {
                continue
            } catch {
                unreadable(id, error)
            }
        }
        return out
    }
}
