import Foundation
import MediaTestSupport
import Pipeline
import Testing

@Suite struct ReadmeExampleTests {
    let folder = TemporaryFolder("readme")

    /// The code between the markers of ReadmeExample.swift.
    static func exampleSource() throws -> String {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("ReadmeExample.swift")
        let text = try String(contentsOf: file, encoding: .utf8)
        let start = try #require(text.range(of: "// README: begin\n")), end = try #require(text.range(of: "// README: end"))
        return String(text[start.upperBound..<end.lowerBound])
    }

    @Test func theReadmeShowsTheCompiledExample() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        #expect(text.contains("```swift\n" + (try Self.exampleSource()) + "```\n"))
    }

    @Test func theExampleRunsAndCaches() async throws {
        let first = try await shout(cache: folder.file("cache"))
        #expect(first.outputs["line"] == .string("HELLO!! AGAIN!"))
        let second = try await shout(cache: folder.file("cache"))
        #expect(second.stages.values.allSatisfy { $0.cached })
    }
}
