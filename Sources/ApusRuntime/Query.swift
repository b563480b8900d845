import ApusSpec
import Glibc

extension Runtime {
    /// `apus state`: on orchestrators' hot path, so no lock, one small read.
    public func state(id: String) throws -> JSONValue {
        let dir = try store.open(id)
        let record = try dir.load()
        return StateOutput.runcState(record, status: record.currentStatus(dir: dir))
    }

    public struct Summary {
        public var record: ContainerRecord
        public var status: ContainerStatus
    }

    /// `apus list`: containers whose state can be read; a container deleted
    /// while we look is skipped.
    public func list() throws -> [Summary] {
        var out: [Summary] = []
        for id in try store.ids() {
            guard let dir = try? store.open(id), let record = try? dir.load() else { continue }
            out.append(Summary(record: record, status: record.currentStatus(dir: dir)))
        }
        return out
    }
}
