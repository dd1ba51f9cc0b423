import Foundation
import MediaTestSupport
import Testing

/// The cache's digests file across whole processes: what did not change is not read again,
/// and what changed is seen even when its size and modification time were put back.
@Suite(.timeLimit(.minutes(10))) struct DigestCacheTests {
    /// The stages of the run.json in `out`, by name: whether each came from the cache.
    static func cached(_ folder: TemporaryFolder, _ out: String) throws -> [String: Bool] {
        let data = try Data(contentsOf: folder.file("\(out)/run.json"))
        let stages = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["stages"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: stages.compactMap { stage in
            (stage["stage"] as? String ?? stage["name"] as? String).map { ($0, stage["cached"] as? Bool ?? false) }
        })
    }

    static func answer(_ word: String) -> String {
        "#!/bin/sh\ncat >/dev/null; echo '{\"type\":\"result\",\"outputs\":{\"text\":\"\(word)\"}}'\n"
    }

    @Test func aReplacedPluginProgramRerunsItsStageAndATouchedInputDoesNot() async throws {
        let folder = TemporaryFolder("digest-runs")
        let plugin = folder.file("plugins/say")
        try FileManager.default.createDirectory(at: plugin, withIntermediateDirectories: true)
        try "name: say\nversion: 1.0.0\ncommand: run\nstages:\n  say:\n    outputs: { text: text }\n"
            .write(to: plugin.appendingPathComponent("plugin.yaml"), atomically: true, encoding: .utf8)
        let program = plugin.appendingPathComponent("run")
        try Self.answer("one").write(to: program, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: program.path)
        let clip = try await SeedpipeBinary.run(["synth", "-o", "clip.mp4", "--duration", "1", "--size", "160x90"], in: folder)
        #expect(clip.status == 0, "\(clip.stderr)")
        try """
            pipeline: digests
            stages:
              said: { uses: say }
              facts: { uses: probe, with: { video: clip.mp4 } }
            outputs: { line: "${said.text}" }
            """.write(to: folder.file("p.yaml"), atomically: true, encoding: .utf8)
        let old = Date(timeIntervalSinceNow: -86_400)
        for file in [program, folder.file("clip.mp4")] {
            try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: file.path)
        }
        // Past the racy margin (50 ms), so the digests are remembered rather than hashed again each time.
        try await Task.sleep(for: .milliseconds(200))

        let first = try await SeedpipeBinary.run(["run", "p.yaml", "--out", "one"], in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.file(".seedpipe/digests").path), "the run saved its digests")
        let again = try await SeedpipeBinary.run(["run", "p.yaml", "--out", "two"], in: folder)
        #expect(try Self.cached(folder, "two") == ["said": true, "facts": true], "\(again.stderr)")

        // Touched, bytes unchanged: hashed again to the same digest, nothing reruns.
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: folder.file("clip.mp4").path)
        _ = try await SeedpipeBinary.run(["run", "p.yaml", "--out", "three"], in: folder)
        #expect(try Self.cached(folder, "three") == ["said": true, "facts": true])

        // Another program of the same size with the old modification time put back: the change
        // time tells, and only the plugin's stage reruns.
        try Self.answer("two").write(to: program, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: program.path)
        let replaced = try await SeedpipeBinary.run(["run", "p.yaml", "--out", "four"], in: folder)
        #expect(try Self.cached(folder, "four") == ["said": false, "facts": true], "\(replaced.stderr)")
        #expect(try String(contentsOf: folder.file("four/run.json"), encoding: .utf8).contains("\"two\""))

        // A garbled digests file is ignored (and rebuilt): still no wrong key.
        try Data(repeating: 0x41, count: 300).write(to: folder.file(".seedpipe/digests"))
        let garbled = try await SeedpipeBinary.run(["run", "p.yaml", "--out", "five", "--rehash"], in: folder)
        #expect(garbled.status == 0, "\(garbled.stderr)")
        #expect(try Self.cached(folder, "five") == ["said": true, "facts": true])
    }
}
