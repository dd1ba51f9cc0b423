import Foundation
import MediaTestSupport
import Pipeline
import SeedpipeKit
import Testing

/// `cache gc` keeps every object a kept record needs, what it made and what it was made from;
/// `cache verify` finds a record whose objects are gone.
@Suite(.timeLimit(.minutes(10))) struct CacheCollectorTests {
    let folder = TemporaryFolder("gc")

    func parts() throws -> (LocalArtifactStore, LocalActionCache, LocalJournal) {
        let store = try LocalArtifactStore(root: folder.url)
        return (store, try LocalActionCache(store: store), try LocalJournal(root: folder.file("journal")))
    }

    /// A soundtrack's record, made just now: the music it was made from, the film it made.
    func soundtrack(_ store: LocalArtifactStore, _ actions: LocalActionCache, createdAt: Date = Date()) async throws
        -> (music: Artifact, film: Artifact) {
        let music = try await store.put(data: Data("the music".utf8), type: .audio, fileExtension: "m4a")
        let film = try await store.put(data: Data("the scored film".utf8), type: .video, fileExtension: "mp4")
        try await actions.record(ActionRecord(key: "soundtrack-key", kind: "soundtrack", version: "1", stage: "scored",
                                              values: ["music": .artifact(music), "fade_in": .number(1)],
                                              outputs: ["video": .artifact(film)], createdAt: createdAt, seconds: 1, paid: false))
        return (music, film)
    }

    @Test func gcKeepsWhatAKeptRecordWasMadeFrom() async throws {
        let (store, actions, journal) = try parts()
        let (music, film) = try await soundtrack(store, actions)
        let stray = try await store.put(data: Data("nobody names this".utf8), type: .text, fileExtension: "txt")
        let collector = CacheCollector(store: store, actions: actions, journal: journal)
        let outcome = try await collector.collect(olderThan: 30 * 86_400)
        #expect(outcome.removedRecords == 0)
        #expect(await store.contains(music.digest), "the record's input (the music) stays")
        #expect(await store.contains(film.digest))
        #expect(await !store.contains(stray.digest), "an object no record names goes")
        #expect(await collector.incompleteRecords().isEmpty)
        #expect(await actions.lookup("soundtrack-key") != nil, "still a cached result")
    }

    @Test func anOldRecordGoesWithWhatOnlyItNeeded() async throws {
        let (store, actions, journal) = try parts()
        let (music, film) = try await soundtrack(store, actions, createdAt: Date(timeIntervalSinceNow: -40 * 86_400))
        let outcome = try await CacheCollector(store: store, actions: actions, journal: journal).collect(olderThan: 30 * 86_400)
        #expect(outcome.removedRecords == 1 && outcome.freedBytes > 0)
        let (musicKept, filmKept) = (await store.contains(music.digest), await store.contains(film.digest))
        #expect(!musicKept && !filmKept)
    }

    @Test func verifyFindsARecordWhoseInputIsGone() async throws {
        let (store, actions, journal) = try parts()
        let (music, _) = try await soundtrack(store, actions)
        store.remove(music.digest)
        let incomplete = await CacheCollector(store: store, actions: actions, journal: journal).incompleteRecords()
        #expect(incomplete.count == 1 && incomplete.first?.record.stage == "scored" && incomplete.first?.missing == [music.digest])
    }
}
