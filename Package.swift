// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "seedpipe",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Media", targets: ["Media"]),
        .executable(name: "seedpipe", targets: ["seedpipe"]),
        .executable(name: "seedpipe-bench", targets: ["SeedpipeBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // The system FFmpeg libraries (Debian: libav*-dev), found through pkg-config.
        .systemLibrary(
            name: "CFFmpeg",
            path: "Sources/CFFmpeg",
            pkgConfig: "libavformat",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev"])]
        ),
        // The only module that touches CFFmpeg; its public API is plain Swift types.
        .target(
            name: "Media",
            dependencies: [
                "CFFmpeg",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SeedpipeCLI",
            dependencies: [
                "Media",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "seedpipe", dependencies: ["SeedpipeCLI"]),
        .executableTarget(name: "SeedpipeBench", dependencies: ["Media"]),
        // Shared by the test targets: temporary folders, generated fixtures, the ffmpeg referee.
        .target(name: "MediaTestSupport", dependencies: ["Media"], path: "Tests/MediaTestSupport"),
        .testTarget(name: "MediaTests", dependencies: ["Media", "MediaTestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["Media", "MediaTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
