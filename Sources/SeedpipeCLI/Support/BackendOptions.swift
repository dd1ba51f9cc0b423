import ArgumentParser
import Foundation
import SeedanceAPI
import SeedpipeKit

/// Where generations run: `--backend auto|segmind|emulator|URL`.
struct BackendOptions: ParsableArguments {
    @Option(help: """
        auto: Segmind when SEGMIND_API_KEY is set, else the built-in emulator; \
        segmind; emulator (offline, clips rendered locally); or the URL of a Seedance-compatible server \
        (SEGMIND_API_KEY is sent there because you typed the URL here; a note says so unless it is loopback).
        """)
    var backend = "auto"

    @Option(help: "API requests per minute, for every generation of the run together (Segmind's plan limit; not for the built-in emulator).")
    var rpm = 50

    /// Seconds the built-in emulator takes per clip.
    @Option(help: .hidden)
    var emulatorLatency: Double = 1

    func validate() throws {
        guard rpm >= 1 else { throw ValidationError("--rpm must be 1 or more") }
        guard Backend(backend) != nil else {
            throw ValidationError("--backend \(backend): use auto, segmind, emulator, or a URL such as http://127.0.0.1:8080")
        }
    }

    var choice: Backend { Backend(backend) ?? .auto }

    /// Which kind the chosen backend is (one GET to a URL, asking whether it is seedpipe's emulator).
    func kind() async -> Backend.Kind { await choice.kind(apiKey: APIKey.fromEnvironment()) }

    /// A client for the chosen backend, for commands that talk to it directly (`generate`).
    func connect() async throws -> Backend.Connection {
        try await choice.connect(apiKey: APIKey.fromEnvironment(), rpm: rpm, emulatorLatency: .milliseconds(Int64(emulatorLatency * 1000)),
                                 note: { message, warning in warning ? Terminal.error(message) : Terminal.note(message) })
    }

    /// These options in a run's.
    func apply(to options: inout PipelineRun.Options) {
        options.backend = choice
        options.rpm = rpm
        options.emulatorLatency = .milliseconds(Int64(emulatorLatency * 1000))
    }
}
