import Glibc

// `ApusFuzz` built with `-sanitize=fuzzer` (make fuzz; the build defines
// APUS_LIBFUZZER) hands control to libFuzzer, which calls the harness with
// each input it generates. Built plainly (swift build), it replays the
// files and directories given on the command line through the same harness,
// so a crash file reproduces without the sanitizer build.

#if APUS_LIBFUZZER
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    Harness.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@main
enum Driver {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { fuzzTestOneInput($0, $1) })
    }
}
#else
@main
enum Driver {
    static func main() {
        var count = 0
        for arg in CommandLine.arguments.dropFirst() {
            for file in files(arg) {
                guard let bytes = read(file) else {
                    print("ApusFuzz: cannot read \(file)")
                    exit(1)
                }
                Harness.run(bytes)
                count += 1
            }
        }
        print("ApusFuzz: \(count) inputs replayed, no crash")
    }

    static func files(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [path] }
        defer { closedir(dir) }
        var out: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name == "." || name == ".." { continue }
            out += files(path + "/" + name)
        }
        return out.sorted()
    }

    static func read(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n == 0 { break }
            out += buf[..<n]
        }
        return out
    }
}
#endif
