/// One eBPF instruction (struct bpf_insn): opcode, registers, offset, immediate.
struct BPFInstruction: Equatable, CustomStringConvertible {
    var code: UInt8
    var dst: UInt8 = 0
    var src: UInt8 = 0
    var off: Int16 = 0
    var imm: Int32 = 0

    /// The 8 bytes as the kernel reads them on a little-endian machine
    /// (dst_reg in the low nibble of byte 1).
    var encoded: UInt64 {
        UInt64(code) | UInt64(dst & 0xf | src << 4) << 8 | UInt64(UInt16(bitPattern: off)) << 16
            | UInt64(UInt32(bitPattern: imm)) << 32
    }

    var description: String { "\(code) \(dst) \(src) \(off) \(imm)" }

    // The few opcodes a device program needs (linux/bpf.h, linux/bpf_common.h).
    static let loadWord: UInt8 = 0x61       // BPF_LDX | BPF_MEM | BPF_W:  dst = *(u32 *)(src + off)
    static let and32Imm: UInt8 = 0x54       // BPF_ALU | BPF_AND | BPF_K:  dst &= imm
    static let rsh32Imm: UInt8 = 0x74       // BPF_ALU | BPF_RSH | BPF_K:  dst >>= imm
    static let mov32Imm: UInt8 = 0xb4       // BPF_ALU | BPF_MOV | BPF_K:  dst = imm
    static let mov32Reg: UInt8 = 0xbc       // BPF_ALU | BPF_MOV | BPF_X:  dst = src
    static let jneImm: UInt8 = 0x55         // BPF_JMP | BPF_JNE | BPF_K:  if dst != imm goto +off
    static let jneReg: UInt8 = 0x5d         // BPF_JMP | BPF_JNE | BPF_X:  if dst != src goto +off
    static let jeqImm: UInt8 = 0x15         // BPF_JMP | BPF_JEQ | BPF_K:  if dst == imm goto +off
    static let exit: UInt8 = 0x95           // BPF_JMP | BPF_EXIT:         return r0
}

/// The BPF_CGROUP_DEVICE program for a device state: the same decisions
/// the v1 devices controller makes for it. For each exception, in runc's
/// order: if the request is for that device, return the exception's verdict;
/// at the end, the default. An allow exception (deny-all mode) matches a
/// request whose every access it grants, a deny exception (allow-all mode)
/// one that asks for any access it takes away, as v1 does (runc's filter
/// lets "rw" through a "deny w" rule).
enum DeviceProgram {
    typealias I = BPFInstruction

    /// r1 holds struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }:
    /// r2 = device type (low 16 bits), r3 = access (high 16 bits), r4 = major, r5 = minor.
    static let prologue: [I] = [
        I(code: I.loadWord, dst: 2, src: 1, off: 0), I(code: I.and32Imm, dst: 2, imm: 0xffff),
        I(code: I.loadWord, dst: 3, src: 1, off: 0), I(code: I.rsh32Imm, dst: 3, imm: 16),
        I(code: I.loadWord, dst: 4, src: 1, off: 4),
        I(code: I.loadWord, dst: 5, src: 1, off: 8),
    ]

    static func build(_ state: DeviceState) -> [BPFInstruction] {
        var out = prologue
        for (match, access) in state.sortedExceptions {
            out += block(match, access, allow: !state.defaultAllow)
        }
        return out + verdict(state.defaultAllow)
    }

    static func verdict(_ allow: Bool) -> [I] {
        [I(code: I.mov32Imm, dst: 0, imm: allow ? 1 : 0), I(code: I.exit)]
    }

    /// The tests for one exception, each jumping past the block when the
    /// request is not for it, then its verdict.
    static func block(_ match: DeviceMatch, _ access: DeviceAccess, allow: Bool) -> [I] {
        var body = [I(code: I.jneImm, dst: 2, imm: Int32(match.kind.rawValue))]
        if access != .all {
            // allow: skip unless (requested & access) == requested; deny: skip if they share nothing.
            body += [I(code: I.mov32Reg, dst: 1, src: 3), I(code: I.and32Imm, dst: 1, imm: Int32(access.rawValue)),
                     allow ? I(code: I.jneReg, dst: 1, src: 3) : I(code: I.jeqImm, dst: 1, imm: 0)]
        }
        // Majors and minors are at most 12 and 20 bits: a wider number in a
        // rule (which no device has) compares unequal whatever its sign extension.
        if let major = match.major { body.append(I(code: I.jneImm, dst: 4, imm: Int32(bitPattern: major))) }
        if let minor = match.minor { body.append(I(code: I.jneImm, dst: 5, imm: Int32(bitPattern: minor))) }
        let flat = body + verdict(allow)
        // Every jump goes to the first instruction after the block.
        return flat.enumerated().map { i, insn in
            var insn = insn
            if insn.code == I.jneImm || insn.code == I.jneReg || insn.code == I.jeqImm {
                insn.off = Int16(flat.count - i - 1)
            }
            return insn
        }
    }
}
