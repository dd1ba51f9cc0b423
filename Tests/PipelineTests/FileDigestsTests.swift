import Foundation
import Synchronization
import MediaTestSupport
@testable import Pipeline
import PipelineTesting
import Testing

/// The digest cache: a file whose stamp is unchanged is not read again; every change that
/// can alter its bytes is seen; a broken digests file is never trusted.
@Suite(.timeLimit(.minutes(10))) struct FileDigestsTests {
    let folder = TemporaryFolder("digests")

    /// Writes `text` to `name` and dates its modification time a day back.
    @discardableResult
    func write(_ text: String, to name: String, modified: Date = Date(timeIntervalSinceNow: -86_400)) throws -> URL {
        let url = folder.file(name)
        try text.write(to: url, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: url.path)
        return url
    }

    func sha(_ url: URL) throws -> String { ContentDigest.sha256(of: try Data(contentsOf: url)) }

    /// Hashing "a second from now": what a test just wrote counts as settled, without waiting.
    static let later: @Sendable () -> Int64 = { FileDigests.now() + 1_000_000_000 }

    /// Past the kernel clock's tick, so a rewrite gets a new change time (which no call can set):
    /// a wait on the filesystem's clock itself, with nothing asserted about how long it took.
    func changeTimeTick() async throws { try await Task.sleep(for: .milliseconds(30)) }

    @Test func anUnchangedFileIsNotReadAgainByTheNextProcess() async throws {
        let program = try write("#!/bin/sh\necho one\n", to: "program")
        let first = FileDigests(file: folder.file("digests"), racyMargin: .zero, now: Self.later)
        #expect(try first.digest(of: program) == sha(program))
        #expect(first.hashCount == 1)
        _ = try first.digest(of: program)
        #expect(first.hashCount == 1, "the second ask is answered from memory")
        first.save()

        let next = FileDigests(file: folder.file("digests"), racyMargin: .zero, now: Self.later)
        #expect(try next.digest(of: program) == sha(program))
        #expect(next.hashCount == 0, "a later process reads the digests file, not the program")
    }

    @Test func aReplacementWithTheSameSizeAndModificationTimeIsSeen() async throws {
        let old = Date(timeIntervalSinceNow: -86_400)
        let program = try write("#!/bin/sh\necho one\n", to: "program", modified: old)
        let first = FileDigests(file: folder.file("digests"), racyMargin: .zero, now: Self.later)
        _ = try first.digest(of: program)
        first.save()
        // Another program of the same size, its modification time put back: only the change time tells.
        try await changeTimeTick()
        try write("#!/bin/sh\necho two\n", to: "program", modified: old)
        let next = FileDigests(file: folder.file("digests"), racyMargin: .zero, now: Self.later)
        #expect(try next.digest(of: program) == sha(program))
        #expect(next.hashCount == 1)
    }

    @Test func aTouchedFileIsHashedAgainToTheSameDigest() async throws {
        let input = try write("the same bytes", to: "input.txt")
        let digests = FileDigests(file: nil, racyMargin: .zero, now: Self.later)
        let before = try digests.digest(of: input)
        try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: input.path)
        #expect(try digests.digest(of: input) == before)
        #expect(digests.hashCount == 2)
    }

    /// A file written within the margin is not remembered: a rewrite in the same clock tick
    /// (same size, the modification time put back, the change time possibly equal) is still seen.
    @Test func aFileWrittenJustBeforeItWasHashedIsHashedAgain() throws {
        let digests = FileDigests(file: nil)
        for round in 0..<20 {
            let url = try write("round \(round) a", to: "racy")
            let modified = try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as! Date
            #expect(try digests.digest(of: url) == sha(url))
            try write("round \(round) b", to: "racy", modified: modified)
            #expect(try digests.digest(of: url) == sha(url), "round \(round)")
        }
    }

    @Test(arguments: ["truncated", "garbage", "flipped", "empty"])
    func aBrokenDigestsFileIsIgnoredAndRebuilt(_ damage: String) async throws {
        let program = try write("#!/bin/sh\necho one\n", to: "program")
        let other = try write("other", to: "other")
        let first = FileDigests(file: folder.file("digests"), racyMargin: .zero, now: Self.later)
        _ = try first.digest(of: program)
        _ = try first.digest(of: other)
        first.save()
        var bytes = [UInt8](try Data(contentsOf: folder.file("digests")))
        switch damage {
        case "truncated": bytes.removeLast(40)
        case "garbage": bytes = Array(repeating: 0x5a, count: bytes.count)
        case "flipped": bytes[bytes.count / 2] ^= 0x01  // one bit of a digest or a stamp
        default: bytes = []
        }
        try Data(bytes).write(to: folder.file("digests"))
        // Garble the program too: a trusted broken record would now give the old digest.
        try await changeTimeTick()
        try write("#!/bin/sh\necho two\n", to: "program")
        let next = FileDigests(file: folder.file("digests"), racyMargin: .zero, now: Self.later)
        #expect(try next.digest(of: program) == sha(program))
        #expect(try next.digest(of: other) == sha(other))
        #expect(next.hashCount == 2, "nothing is trusted from a broken file")
        next.save()
        let rebuilt = FileDigests(file: folder.file("digests"), racyMargin: .zero, now: Self.later)
        _ = try rebuilt.digest(of: program)
        _ = try rebuilt.digest(of: other)
        #expect(rebuilt.hashCount == 0, "the file is whole again")
    }

    @Test func runsSavingAtOnceKeepAValidDigestsFile() async throws {
        var files: [URL] = []
        for index in 0..<40 { files.append(try write("file \(index)", to: "f\(index)")) }
        let target = folder.file("digests")
        // Four "processes" (instances of their own), each learning its files and saving over and over.
        let paths = files
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask { [paths] in
                    let digests = FileDigests(file: target, racyMargin: .zero, now: Self.later)
                    for (index, file) in paths.enumerated() where index % 4 == worker {
                        _ = try? digests.digest(of: file)
                        await Task.yield()
                        digests.save()
                    }
                }
            }
        }
        let decoded = try #require(FileDigests.decode(try Data(contentsOf: target)), "the file decodes")
        #expect(!decoded.isEmpty)
        for (path, entry) in decoded {
            #expect(FileDigests.hex(entry.digest) == (try sha(URL(fileURLWithPath: path))), "\(path)")
        }
        leftovers: for name in try FileManager.default.contentsOfDirectory(atPath: folder.url.path) where name.hasPrefix(".digests.") {
            Issue.record("a staging file was left: \(name)")
            break leftovers
        }
    }

    @Test func rehashTrustsNothingRemembered() async throws {
        let program = try write("#!/bin/sh\necho one\n", to: "program")
        let first = FileDigests(file: folder.file("digests"), racyMargin: .zero, now: Self.later)
        _ = try first.digest(of: program)
        first.save()
        let cautious = FileDigests(file: folder.file("digests"), racyMargin: .zero, now: Self.later)
        cautious.rehash = true
        _ = try cautious.digest(of: program)
        _ = try cautious.digest(of: program)
        #expect(cautious.hashCount == 1, "read again, once")
    }

    /// The store trusts an object by its stamp, and a corrupted object is still found.
    @Test func theStoreTrustsAnUnchangedObjectAndCatchesAChangedOne() async throws {
        let store = try LocalArtifactStore(root: folder.file("cache"), digests: FileDigests(file: nil, racyMargin: .zero, now: Self.later))
        let input = try write("clip bytes", to: "clip.mp4")
        let artifact = try await store.put(file: input, type: .video)
        let hashed = store.digests.hashCount
        _ = try await store.verifiedLocation(of: artifact)
        _ = try await store.put(file: input, type: .video)
        #expect(store.digests.hashCount == hashed, "neither the object nor the unchanged input is read again")
        let object = store.location(of: artifact.digest)
        try "clip bytez".write(to: object, atomically: false, encoding: .utf8)
        await #expect(throws: PipelineError.self) { _ = try await store.verifiedLocation(of: artifact) }
        #expect(!FileManager.default.fileExists(atPath: object.path), "the corrupted object is removed")
    }
}

extension FileDigestsTests {
    /// A file that passed the media-kind check is not probed again while its stamp holds;
    /// a failure is never remembered; the verdicts survive in the digests file.
    @Test func aPassedFileCheckIsRememberedAndAFailureIsNot() async throws {
        let good = try write("pretend image", to: "still.jpg")
        let bad = try write("not media", to: "broken.jpg")
        let probes = Mutex(0)
        let check: @Sendable (URL, ArtifactType) -> String? = { url, _ in
            probes.withLock { $0 += 1 }
            return url.lastPathComponent == "broken.jpg" ? "cannot be read as media" : nil
        }
        let first = FileDigests(file: folder.file("digests"), racyMargin: .zero, now: Self.later)
        let checked = first.remembering(check)
        #expect(checked(good, .image) == nil && checked(good, .image) == nil)
        #expect(checked(bad, .image) != nil && checked(bad, .image) != nil)
        #expect(checked(good, .video) == nil, "another kind is its own check")
        #expect(probes.withLock { $0 } == 4)
        _ = try first.digest(of: good)  // a digest beside the verdict keeps it
        first.save()

        let next = FileDigests(file: folder.file("digests"), racyMargin: .zero, now: Self.later).remembering(check)
        #expect(next(good, .image) == nil && next(good, .video) == nil)
        #expect(probes.withLock { $0 } == 4, "remembered across processes")
        try await changeTimeTick()
        try write("pretend imagf", to: "still.jpg")  // same size, changed
        #expect(next(good, .image) == nil)
        #expect(probes.withLock { $0 } == 5, "a changed file is probed again")
    }
}
