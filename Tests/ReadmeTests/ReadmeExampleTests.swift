import Foundation
import MediaTestSupport
import Pipeline
import PipelineTesting
import SeedpipeKit
import Testing

/// Every Swift block in the README is one of the compiled examples in `Readme/`, and every
/// example is in the README: a README that drifts from the code fails here.
@Suite(.timeLimit(.minutes(10))) struct ReadmeExampleTests {
    let folder = TemporaryFolder("readme")

    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()

    /// The code between the markers of each file in Readme/.
    static func examples() throws -> [String: String] {
        let files = try FileManager.default.contentsOfDirectory(at: here.appendingPathComponent("Readme"), includingPropertiesForKeys: nil)
        var examples: [String: String] = [:]
        for file in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            let start = try #require(text.range(of: "// README: begin\n")), end = try #require(text.range(of: "// README: end"))
            examples[file.lastPathComponent] = String(text[start.upperBound..<end.lowerBound])
        }
        return examples
    }

    /// The README's ```swift blocks.
    static func readmeBlocks() throws -> [String] {
        let text = try String(contentsOf: here.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("README.md"),
                              encoding: .utf8)
        return text.components(separatedBy: "```swift\n").dropFirst().compactMap { $0.components(separatedBy: "```\n").first }
    }

    @Test func everySwiftBlockInTheReadmeIsCompiled() throws {
        let examples = try Self.examples()
        let blocks = try Self.readmeBlocks()
        #expect(examples.count >= 4)
        for block in blocks {
            #expect(examples.values.contains(block), "a README block no test compiles:\n\(block)")
        }
        for (file, example) in examples {
            #expect(blocks.contains(example), "Readme/\(file) is not shown in the README as it is")
        }
    }

    @Test func thePluginExampleRunsAndCaches() async throws {
        let first = try await shout(cache: folder.file("cache"))
        #expect(first.outputs["line"] == .string("HELLO!! AGAIN!"))
        let second = try await shout(cache: folder.file("cache"))
        #expect(second.stages.values.allSatisfy { $0.cached })
    }

    @Test func theEmbeddingExampleGeneratesOnceAgainstTheEmulator() async throws {
        let seedance = try await EmulatedSeedance.start()
        let first = try await teaser(cache: folder.file("cache"), client: seedance.client())
        #expect(first.succeeded && first.outputs["poster"]?.artifact?.type == .image)
        let second = try await teaser(cache: folder.file("cache"), client: seedance.client())
        #expect(second.stages.values.allSatisfy { $0.cached })
        #expect(await seedance.emulator.stats().submitted == 1, "paid once")
        await seedance.stop()
    }

    @Test func theRunAPIExampleRunsAFileOfflineAndRerunsFromTheCache() async throws {
        let file = folder.file("lake.yaml")
        try """
            pipeline: lake
            stages:
              shot: { uses: seedance.generate, with: { prompt: "A still lake at dawn", duration: 4 } }
              poster: { uses: thumbnail, with: { video: "${shot.video}", at: 1 } }
            outputs: { poster: "${poster.image}", clip: "${shot.video}" }
            """.write(to: file, atomically: true, encoding: .utf8)
        let out = folder.file("out")
        let first = try await render(file, out: out)
        #expect(first.failure == nil && first.report.emulated.generations == 1 && first.report.paid.generations == 0)
        for name in ["poster.jpg", "clip.mp4", "run.json", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "\(name) delivered")
        }
        let second = try await render(file, out: out)
        #expect(second.report.stages.values.allSatisfy { $0.cached }, "the rerun takes everything from the cache")
        #expect(second.report.emulated.generations == 0)
    }
}
