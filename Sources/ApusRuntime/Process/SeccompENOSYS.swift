/// The prologue apus puts before libseccomp's program: a syscall number
/// above the newest one the profile names (per architecture) fails with
/// ENOSYS instead of the default action, as runc does. A profile written
/// before close_range or openat2 existed then makes programs (and glibc)
/// fall back to the older calls instead of failing on EPERM, for every
/// number, not only those libseccomp has names for.
///
/// ```
///   ld  [4]                      arch
///   jeq ARCH_i → section_i       (one per architecture of the filter)
///   ja  filter                   another arch: libseccomp's program decides
/// section_i:
///   ld  [0]                      nr
///   (s390: jeq 0 → enosys)       the multiplexer
///   (x86_64: jset 1<<30 → x32 part or filter)
///   jgt newest_i → enosys, else filter
/// enosys:
///   ret ERRNO(ENOSYS)
/// filter:                        libseccomp's program
/// ```
enum SeccompENOSYS {
    /// One classic BPF instruction (struct sock_filter).
    struct Instruction: Equatable {
        var code: UInt16, jt: UInt8, jf: UInt8, k: UInt32
    }

    /// The newest syscall number the profile names on one AUDIT_ARCH_*
    /// value; x86_64 carries x32 (numbers with bit 30 set) as a second part.
    struct Limit: Equatable {
        var audit: UInt32
        var newest: UInt32?
        var newestX32: UInt32?
    }

    static let auditX86_64: UInt32 = 0xC000_003E
    /// libseccomp's token for x32 is not an AUDIT_ARCH_* value: its syscalls
    /// come as x86_64 with this bit in the number.
    static let tokenX32: UInt32 = 0x4000_003E
    static let x32Bit: UInt32 = 1 << 30
    static let retENOSYS: UInt32 = 0x0005_0000 | 38

    // linux/filter.h
    static let ldAbsW: UInt16 = 0x20, ja: UInt16 = 0x05, jeq: UInt16 = 0x15
    static let jgt: UInt16 = 0x25, jset: UInt16 = 0x45, retK: UInt16 = 0x06

    /// The limits for the filter's architectures (libseccomp tokens, the
    /// native one included) given `resolve(token, name)` (libseccomp's
    /// number, negative when the name has none there). An architecture where
    /// no name resolves gets no check (runc's rule).
    static func limits(tokens: [UInt32], names: [String], resolve: (UInt32, String) -> Int32) -> [Limit] {
        var out: [Limit] = []
        for token in tokens {
            let newest = names.reduce(Int32(-1)) { max($0, resolve(token, $1)) }
            guard newest > 0 else { continue }
            let isX32 = token == tokenX32
            let audit = isX32 ? auditX86_64 : token
            var limit = out.first { $0.audit == audit } ?? Limit(audit: audit)
            if isX32 { limit.newestX32 = UInt32(newest) } else { limit.newest = UInt32(newest) }
            out.removeAll { $0.audit == audit }
            out.append(limit)
        }
        return out
    }

    private enum Label: Hashable { case next, enosys, filter, section(Int), x32(Int) }

    /// The prologue for `limits`; its last jump targets the instruction
    /// right after it, where libseccomp's program goes.
    static func stub(_ limits: [Limit]) -> [Instruction] {
        var a = Assembler()
        a.emit(ldAbsW, k: 4)
        for (i, l) in limits.enumerated() { a.emit(jeq, k: l.audit, jt: .section(i)) }
        a.emit(ja, jt: .filter)
        for (i, l) in limits.enumerated() {
            a.mark(.section(i))
            a.emit(ldAbsW, k: 0)
            if l.audit & 0xffff == 22 { a.emit(jeq, k: 0, jt: .enosys) }  // EM_S390: syscall 0 multiplexes
            switch (l.newest, l.newestX32) {
            case let (n?, x?):
                a.emit(jset, k: x32Bit, jt: .x32(i))
                a.emit(jgt, k: n, jt: .enosys, jf: .filter)
                a.mark(.x32(i))
                a.emit(jgt, k: x, jt: .enosys, jf: .filter)
            case let (n?, nil):
                if l.audit == auditX86_64 { a.emit(jset, k: x32Bit, jt: .filter) }
                a.emit(jgt, k: n, jt: .enosys, jf: .filter)
            case let (nil, x?):
                a.emit(jset, k: x32Bit, jf: .filter)
                a.emit(jgt, k: x, jt: .enosys, jf: .filter)
            case (nil, nil):
                a.emit(ja, jt: .filter)
            }
        }
        a.mark(.enosys)
        a.emit(retK, k: retENOSYS)
        a.mark(.filter)
        return a.assemble()
    }

    /// Forward jumps by label; conditional offsets are 8 bits, which a
    /// prologue of at most a few dozen instructions never exceeds.
    private struct Assembler {
        var code: [(op: UInt16, k: UInt32, jt: Label, jf: Label)] = []
        var labels: [Label: Int] = [:]

        mutating func emit(_ op: UInt16, k: UInt32 = 0, jt: Label = .next, jf: Label = .next) {
            code.append((op, k, jt, jf))
        }

        mutating func mark(_ l: Label) { labels[l] = code.count }

        func assemble() -> [Instruction] {
            code.enumerated().map { i, c in
                // Every label stub() jumps to is marked after the jump (forward only).
                let off = { (l: Label) -> UInt32 in l == .next ? 0 : UInt32((labels[l] ?? i + 1) - i - 1) }
                if c.op == SeccompENOSYS.ja { return Instruction(code: c.op, jt: 0, jf: 0, k: off(c.jt)) }
                return Instruction(code: c.op, jt: UInt8(off(c.jt)), jf: UInt8(off(c.jf)), k: c.k)
            }
        }
    }

    /// The instructions as seccomp(2) reads them (native byte order).
    static func bytes(_ program: [Instruction]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(program.count * 8)
        for i in program {
            withUnsafeBytes(of: i.code) { out += $0 }
            out += [i.jt, i.jf]
            withUnsafeBytes(of: i.k) { out += $0 }
        }
        return out
    }
}
