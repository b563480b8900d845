import CApusShim
import Glibc

/// Loading a device program and putting it on a cgroup v2 directory in
/// place of the one Apus put there before (bpf(2) through CApusShim/bpf.c).
enum BPF {
    /// The name Apus gives its device programs (at most 15 characters);
    /// other programs on the cgroup (systemd's, say) are left alone: they
    /// can only deny more.
    static let programName = "apus_devices"
    static let step = "applying device rules (cgroup v2)"

    /// Attaches the program (BPF_F_ALLOW_MULTI), then detaches the ones
    /// Apus attached earlier: while both are attached a request needs the
    /// consent of each, so nothing allowed by the old and the new rules is
    /// ever denied, and nothing either denies is ever allowed.
    static func replaceDeviceProgram(in dir: String, with program: [BPFInstruction]) throws {
        let cgroup = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        try check(cgroup, step, "open(\(dir))")
        defer { close(cgroup) }
        let old = try attachedPrograms(cgroup, dir: dir).filter { $0.name == programName }
        defer { for p in old { close(p.fd) } }
        let prog = try load(program)
        defer { close(prog) }
        try check(apus_bpf_attach_device_program(cgroup, prog), step, "bpf(BPF_PROG_ATTACH, \(dir))")
        for p in old {
            try check(apus_bpf_detach_device_program(cgroup, p.fd), step, "bpf(BPF_PROG_DETACH, \(dir), program \(p.id))")
        }
    }

    /// BPF_PROG_LOAD; on failure the verifier's log is loaded with it for the error.
    static func load(_ program: [BPFInstruction]) throws -> Int32 {
        let insns = program.map(\.encoded)
        var fd = apus_bpf_load_device_program(insns, UInt32(insns.count), programName, license, nil, 0)
        // Before Linux 5.11 BPF memory counted against RLIMIT_MEMLOCK, often
        // too low: raise it for this load only (the container inherits ours).
        if fd < 0 && errno == EPERM { fd = withRaisedMemlock { apus_bpf_load_device_program(insns, UInt32(insns.count), programName, license, nil, 0) } }
        guard fd < 0 else { return fd }
        let err = errno
        var log = [CChar](repeating: 0, count: 16384)
        _ = apus_bpf_load_device_program(insns, UInt32(insns.count), programName, license, &log, UInt32(log.count))
        let text = String(cString: log).split(separator: "\n").suffix(3).joined(separator: "; ")
        throw RuntimeError.syscall(step: step, call: "bpf(BPF_PROG_LOAD\(text.isEmpty ? "" : ": " + text))", errno: err)
    }

    static let license = "Apache-2.0"

    private static func withRaisedMemlock(_ body: () -> Int32) -> Int32 {
        var saved = rlimit()
        guard getrlimit(RLIMIT_MEMLOCK_ID, &saved) == 0 else { return body() }
        var unlimited = rlimit(rlim_cur: rlim_t.max, rlim_max: rlim_t.max)  // RLIM_INFINITY
        guard setrlimit(RLIMIT_MEMLOCK_ID, &unlimited) == 0 else { return body() }
        let fd = body()
        let err = errno
        setrlimit(RLIMIT_MEMLOCK_ID, &saved)
        errno = err
        return fd
    }

    private static let RLIMIT_MEMLOCK_ID = __rlimit_resource_t(8)  // RLIMIT_MEMLOCK

    struct Attached {
        var id: UInt32
        var fd: Int32
        var name: String
    }

    /// The device programs attached to the cgroup itself (not inherited),
    /// each opened by id so it can be named and detached.
    static func attachedPrograms(_ cgroup: Int32, dir: String) throws -> [Attached] {
        var ids = [UInt32](repeating: 0, count: 64)
        var count = UInt32(ids.count)
        try check(apus_bpf_query_device_programs(cgroup, &ids, &count), step, "bpf(BPF_PROG_QUERY, \(dir))")
        var out: [Attached] = []
        for id in ids.prefix(Int(min(count, UInt32(ids.count)))) {
            let fd = apus_bpf_program_fd(id)
            // Gone since the query (detached by someone else): nothing to replace.
            if fd < 0 && errno == ENOENT { continue }
            do {
                try check(fd, step, "bpf(BPF_PROG_GET_FD_BY_ID, \(id))")
                var name = [CChar](repeating: 0, count: 16)
                try check(apus_bpf_program_name(fd, &name), step, "bpf(BPF_OBJ_GET_INFO_BY_FD, program \(id))")
                out.append(Attached(id: id, fd: fd, name: String(cString: name)))
            } catch {
                if fd >= 0 { close(fd) }
                for p in out { close(p.fd) }
                throw error
            }
        }
        return out
    }
}
