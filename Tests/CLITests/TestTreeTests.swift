import Foundation
import Testing

/// Rules of the test tree itself, checked so they stay true.
@Suite(.timeLimit(.minutes(10))) struct TestTreeTests {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()

    /// Every suite has a time limit, so a hang fails that suite in minutes instead of holding
    /// CI to its end; and no test declares itself outside a suite (it would have none).
    @Test func everySuiteHasATimeLimit() throws {
        let files = FileManager.default.enumerator(at: Self.tests, includingPropertiesForKeys: nil)?
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" } ?? []
        var suites = 0
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            for (number, line) in lines.enumerated() where line.hasPrefix("@Suite") {
                suites += 1
                #expect(line.contains(".timeLimit("), "\(file.lastPathComponent):\(number + 1): a suite without .timeLimit")
            }
            if text.contains("@Test") {
                #expect(text.contains("@Suite"), "\(file.lastPathComponent): tests outside a suite")
            }
        }
        #expect(suites > 50, "the suites were found (\(suites))")
    }
}
