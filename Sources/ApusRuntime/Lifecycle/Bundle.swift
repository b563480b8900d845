import ApusSpec
import Glibc

/// An OCI bundle: a directory with config.json and the rootfs it names.
enum Bundle {
    static func load(_ path: String) throws -> (spec: Spec, bundle: String, rootfs: String) {
        var st = stat()
        if stat(path, &st) < 0 { throw RuntimeError.syscall(step: "opening bundle", call: "stat(\(path))", errno: errno) }
        if (st.st_mode & S_IFMT) != S_IFDIR { throw RuntimeError.syscall(step: "opening bundle", call: "chdir(\(path))", errno: ENOTDIR) }
        let bundle = try FS.realpath(path)
        let configPath = bundle + "/config.json"
        guard FS.exists(configPath) else {
            throw RuntimeError.bundle(path: bundle, reason: "config.json not found")
        }
        let spec: Spec
        do { spec = try ConfigLoader.load(path: configPath) } catch let e as SpecError {
            throw RuntimeError.config(e)
        }
        guard let rootPath = spec.root?.path else {
            throw RuntimeError.config(SpecError("required property is missing", at: JSONPath.root.key("root")))
        }
        let rootfs = rootPath.hasPrefix("/") ? rootPath : FS.join(bundle, rootPath)
        guard FS.isDirectory(rootfs) else {
            throw RuntimeError.bundle(path: bundle, reason: "root.path \(rootfs) is not a directory")
        }
        return (spec, bundle, try FS.realpath(rootfs))
    }
}
