// swift-tools-version:5.10
import PackageDescription

// The `apus` binary links only the Swift stdlib (statically, see Makefile),
// Glibc, libyajl and libseccomp: no Foundation, no ArgumentParser, because
// `apus state` sits on orchestrators' hot path and each costs milliseconds.
let package = Package(
    name: "apus",
    products: [
        .executable(name: "apus", targets: ["apus"]),
        // libFuzzer harness over the decoders and the argument parser
        // (`make fuzz`); never linked into `apus`.
        .executable(name: "ApusFuzz", targets: ["ApusFuzz"]),
    ],
    targets: [
        .systemLibrary(name: "CYajl", pkgConfig: "yajl", providers: [.apt(["libyajl-dev"])]),
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .target(name: "CApusShim"),
        // Only a constructor: the CVE-2019-5736 re-exec before the Swift
        // runtime starts (CApusShim/fdmount.c, apus_seal_early).
        .target(name: "CApusEntry", dependencies: ["CApusShim"]),
        .target(name: "ApusSpec", dependencies: ["CYajl"]),
        .target(name: "ApusRuntime", dependencies: ["ApusSpec", "CApusShim", "CSeccomp"]),
        .target(name: "ApusCLI"),
        .executableTarget(name: "apus", dependencies: ["ApusCLI", "ApusRuntime", "ApusSpec", "CApusEntry"]),
        .executableTarget(name: "ApusFuzz", dependencies: ["ApusCLI", "ApusRuntime", "ApusSpec"]),
        .testTarget(name: "ApusSpecTests", dependencies: ["ApusSpec"]),
        .testTarget(name: "ApusRuntimeTests", dependencies: ["ApusRuntime", "ApusSpec", "ApusCLI"]),
    ]
)
