import Foundation
import MediaTestSupport
@testable import Pipeline
import PipelineTesting
import Testing

@Suite(.timeLimit(.minutes(10))) struct StoreTests {
    @Test func listsObjectsNotFolders() async throws {
        let folder = TemporaryFolder("store")
        let store = try LocalArtifactStore(root: folder.url)
        let a = try await store.put(data: Data("a".utf8), type: .text, fileExtension: "txt")
        let b = try await store.put(data: Data("b".utf8), type: .text, fileExtension: "txt")
        #expect(Set(store.allObjects().map(\.digest)) == [a.digest, b.digest])
    }

    /// An object the store wrote is trusted by its stamp without being read; a rewrite of the
    /// same size with its modification time put back still changes its change time: hashed
    /// again, found corrupted, removed.
    @Test func anObjectIsTrustedByItsStampUntilItChanges() async throws {
        let folder = TemporaryFolder("store")
        let store = try LocalArtifactStore(root: folder.url, digests: FileDigests(file: nil))
        let artifact = try await store.put(data: Data("original".utf8), type: .text, fileExtension: "txt")
        let url = try await store.verifiedLocation(of: artifact)
        #expect(store.digests.hashCount == 0, "written by the store: trusted, not read")
        var before = stat()
        #expect(stat(url.path, &before) == 0)
        try await Task.sleep(for: .milliseconds(30))  // a clock tick later
        try Self.overwrite(url, with: "ORIGINAL")
        var times = [before.st_atim, before.st_mtim]
        #expect(utimensat(AT_FDCWD, url.path, &times, 0) == 0)
        let error = await #expect(throws: PipelineError.self) { try await store.verifiedLocation(of: artifact) }
        #expect(error?.code == .corruptedObject)
        #expect(await !store.contains(artifact.digest))
    }

    static func overwrite(_ url: URL, with text: String) throws {
        let handle = try FileHandle(forWritingTo: url)
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    /// Locks are held by open file descriptions: two caches on one folder in one process
    /// exclude each other, and closing some other descriptor of the lock file drops nothing
    /// (with classic fcntl locks, both would fail).
    @Test func actionLocksExcludeAcrossCachesAndSurviveOtherCloses() async throws {
        let folder = TemporaryFolder("locks")
        let one = try LocalActionCache(store: try LocalArtifactStore(root: folder.url))
        let two = try LocalActionCache(store: try LocalArtifactStore(root: folder.url))
        let key = String(repeating: "ab", count: 32)
        let (entered, enter) = AsyncStream.makeStream(of: Void.self)
        let (release, leave) = AsyncStream.makeStream(of: Void.self)
        let holder = Task {
            try await one.exclusively(key) {
                enter.yield()
                for await _ in release { break }
            }
        }
        for await _ in entered { break }
        // Another descriptor of the lock file, opened and closed: the lock must stay.
        close(open(folder.file("actions.lock").path, O_RDWR))
        let second = Task { try await two.exclusively(key) { ContinuousClock.now } }
        // Wait until the second is refused the lock and waits for it (the event itself, not a sleep).
        while two.locks.waiting.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let released = ContinuousClock.now
        leave.yield()
        try await holder.value
        let acquired = try await second.value
        #expect(acquired >= released, "the second cache got the lock only after the first let it go")
    }

    /// Journal files written before records had a payload are still read (a generation
    /// journaled by an older seedpipe resumes after an upgrade).
    @Test func theJournalReadsOldFlatEntries() async throws {
        let folder = TemporaryFolder("journal")
        let journal = try LocalJournal(root: folder.url)
        let old = #"{"key":"k1","pipeline":"p","stage":"s","state":"submitted","requestID":"r-1","updatedAt":"2026-01-02T03:04:05Z"}"#
        try Data(old.utf8).write(to: folder.file("k1.json"))
        let record = try #require(try await journal.read("k1"))
        #expect(record.stage == "s" && record.pipeline == "p")
        #expect(record.payload.object?["requestID"] == .string("r-1"))
        try await journal.write(JournalRecord(key: "k2", kind: "remote", pipeline: "p", stage: "t", payload: .object(["n": .number(1)])))
        #expect(try await journal.all().map(\.key).sorted() == ["k1", "k2"])
    }
}

@Suite(.timeLimit(.minutes(10))) struct CostTests {
    @Test func planCountsWhatStagesDeclareAndRunsRecordIt() async throws {
        let recorder = Recorder()
        let bed = try PipelineTestbed(registry: testRegistry(recorder))
        let yaml = """
            pipeline: paid
            stages:
              a: { uses: remote-wait, with: { ms: 1, tag: a, seconds: 4 } }
              b: { uses: remote-wait, with: { ms: 1, tag: b, seconds: 6 } }
              c: { uses: emit, with: { value: free } }
            """
        let plan = try await bed.plan(yaml)
        #expect(plan.generations == 2 && plan.secondsToPay == 10)
        #expect(plan.steps.first { $0.stage == "c" }?.status == .run)
        let report = try await bed.run(yaml)
        #expect(report.cost == Cost(generations: 2, seconds: 10))
        let records = await bed.storage.actions.allRecords()
        #expect(records.filter(\.paid).map(\.stage).sorted() == ["a", "b"])
        let again = try await bed.plan(yaml)
        #expect(again.cost.isFree, "all cached: nothing to pay")
    }
}

@Suite(.timeLimit(.minutes(10))) struct PlanExplanationTests {
    /// A miss says which parameter changed, long texts included, though records keep texts
    /// over 256 bytes only by their SHA-256.
    @Test func aChangedLongTextIsNamedAndKeptByDigest() async throws {
        let bed = try PipelineTestbed(registry: testRegistry(Recorder()))
        let long = String(repeating: "a slow orbit around a red kettle, ", count: 12)
        func yaml(_ text: String, _ other: String = "short") -> String {
            "pipeline: explain\nstages:\n  long: { uses: emit, with: { value: \"\(text)\" } }\n  other: { uses: emit, with: { value: \(other) } }\n"
        }
        _ = try await bed.run(yaml(long))
        let record = try #require(await bed.storage.actions.allRecords().first { $0.stage == "long" })
        #expect(record.values["value"]?.object?["sha256"] != nil, "kept by digest: \(record.values)")
        #expect(await bed.storage.actions.allRecords().first { $0.stage == "other" }?.values["value"] == .string("short"))
        let same = try await bed.plan(yaml(long))
        #expect(same.steps.allSatisfy { $0.status == .cached })
        let changed = try await bed.plan(yaml(long + "at dusk", "changed"))
        #expect(changed.steps.first { $0.stage == "long" }?.reason == "changed: value")
        #expect(changed.steps.first { $0.stage == "other" }?.reason == "changed: value")
    }
}
