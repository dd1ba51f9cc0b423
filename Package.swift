// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "seedpipe",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Media", targets: ["Media"]),
        .library(name: "SeedanceAPI", targets: ["SeedanceAPI"]),
        .library(name: "SeedanceEmulator", targets: ["SeedanceEmulator"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
        .library(name: "Stages", targets: ["Stages"]),
        // What an embedder needs to test a pipeline offline: an emulator on port 0, a
        // temporary cache, a few test stages, an immediate clock.
        .library(name: "PipelineTesting", targets: ["PipelineTesting"]),
        // One way to run a pipeline file as `seedpipe run` does: for the CLI, the studio and
        // any media tool that embeds seedpipe.
        .library(name: "SeedpipeKit", targets: ["SeedpipeKit"]),
        .executable(name: "seedpipe", targets: ["seedpipe"]),
        .executable(name: "seedpipe-bench", targets: ["SeedpipeBench"]),
        // Plugins shipped in plugins/ that are written in Swift, built with seedpipe.
        .executable(name: "seedpipe-loudness-normalize", targets: ["LoudnessNormalizePlugin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        // The team's shared journal (`--shared-journal postgres://…`).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // `make docs`: the DocC catalogs of the library products.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The system FFmpeg headers (Debian: libav*-dev, on the default include path). No
        // pkgConfig: its `-lavformat` would make every process map FFmpeg's ~130 libraries at
        // start, `seedpipe --version` included.
        .systemLibrary(
            name: "CFFmpeg",
            path: "Sources/CFFmpeg",
            providers: [.apt(["libavformat-dev", "libavcodec-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev", "libavfilter-dev"])]
        ),
        // On Linux, FFmpeg's functions as trampolines that load the libraries on the first call.
        .target(name: "CFFmpegLoader", dependencies: ["CFFmpeg"]),
        // The only module that touches CFFmpeg; its public API is plain Swift types.
        .target(
            name: "Media",
            dependencies: [
                "CFFmpeg",
                "CFFmpegLoader",
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: ["avformat", "avcodec", "avutil", "swscale", "swresample", "avfilter"].map {
                .linkedLibrary($0, .when(platforms: [.macOS]))
            }
        ),
        // Seedance 2.0 Mini wire types and the HTTP client (AsyncHTTPClient).
        .target(
            name: "SeedanceAPI",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A local server that answers like Segmind's API and renders real clips with Media.
        .target(
            name: "SeedanceEmulator",
            dependencies: [
                "SeedanceAPI",
                "Media",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The media-agnostic core: stages, pipeline files, validation, executor, cache.
        .target(
            name: "Pipeline",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The built-in stages: Seedance generation (journaled) and the Media operations.
        .target(name: "Stages", dependencies: [
            "Pipeline", "Media", "SeedanceAPI", .product(name: "Mustache", package: "swift-mustache"),
        ]),
        .target(name: "PipelineTesting", dependencies: ["Pipeline", "Stages", "SeedanceAPI", "SeedanceEmulator"]),
        // PipelineRun: a pipeline file (or a Swift graph) planned, run, delivered and told as events.
        .target(name: "SeedpipeKit", dependencies: [
            "Pipeline", "Stages", "Media", "SeedanceAPI", "SeedanceEmulator", .product(name: "Logging", package: "swift-log"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        .target(
            name: "SeedpipeCLI",
            dependencies: [
                "SeedpipeKit",
                "Pipeline",
                "Stages",
                "Media",
                "SeedanceAPI",
                "SeedanceEmulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "seedpipe", dependencies: ["SeedpipeCLI"]),
        // Benchmarks; the team's uses the tests' real servers (MediaTestSupport's TestNginx).
        .executableTarget(name: "SeedpipeBench", dependencies: ["Media", "SeedanceAPI", "SeedanceEmulator", "Pipeline", "Stages", "MediaTestSupport"]),
        // plugins/loudness-normalize: an executable plugin on the public Media product.
        .executableTarget(name: "LoudnessNormalizePlugin", dependencies: ["Media"], path: "plugins/loudness-normalize/Sources"),
        // Shared by the test targets: temporary folders, generated fixtures, the ffmpeg referee.
        .target(name: "MediaTestSupport", dependencies: ["Media"], path: "Tests/MediaTestSupport"),
        .testTarget(name: "MediaTests", dependencies: ["Media", "MediaTestSupport"]),
        .testTarget(name: "CLITests", dependencies: [
            "SeedpipeKit", "Media", "MediaTestSupport", "SeedanceAPI", "SeedanceEmulator", "Pipeline", "Stages", "PipelineTesting",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ], exclude: ["Export/read_timeline.py", "Export/README.md"]),
        .testTarget(name: "PipelineTests", dependencies: [
            "Pipeline", "Stages", "PipelineTesting", "SeedanceAPI", "Media", "MediaTestSupport",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "SeedpipeKitTests", dependencies: [
            "SeedpipeKit", "Pipeline", "Stages", "PipelineTesting", "SeedanceAPI", "SeedanceEmulator", "MediaTestSupport",
        ]),
        // Every Swift block of the README, compiled and run.
        .testTarget(name: "ReadmeTests", dependencies: [
            "SeedpipeKit", "Pipeline", "Stages", "PipelineTesting", "SeedanceAPI", "Media", "MediaTestSupport",
        ]),
        .testTarget(name: "StagesTests", dependencies: [
            "Stages", "Pipeline", "PipelineTesting", "SeedanceAPI", "SeedanceEmulator", "Media", "MediaTestSupport",
            .product(name: "Mustache", package: "swift-mustache"),
        ]),
        // The client (wire rules, errors, retries, waits, rate limits) against a live emulator.
        .testTarget(name: "SeedanceAPITests", dependencies: [
            "SeedanceAPI", "SeedanceEmulator", "SeedanceTestSupport", "PipelineTesting", "Media", "MediaTestSupport",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The emulator itself: its clips, its history, and the official Python client against it.
        .testTarget(name: "SeedanceEmulatorTests", dependencies: [
            "SeedanceEmulator", "SeedanceAPI", "SeedanceTestSupport", "Media", "MediaTestSupport",
        ]),
        .target(name: "SeedanceTestSupport", dependencies: [
            "SeedanceAPI", "SeedanceEmulator", "PipelineTesting", "Media", "MediaTestSupport",
        ], path: "Tests/SeedanceTestSupport"),
    ],
    swiftLanguageModes: [.v6]
)
