import ArgumentParser
import Foundation
import Pipeline
import SeedpipeKit
import Stages

struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Inspect, verify and trim the cache.",
        discussion: """
            Examples:
              seedpipe cache ls pipelines/waterfall-journey.yaml
              seedpipe cache verify --cache pipelines/.seedpipe
              seedpipe cache gc --cache pipelines/.seedpipe --older-than 30d
            """,
        subcommands: [List.self, Verify.self, Collect.self]
    )

    struct Location: ParsableArguments {
        @Argument(help: "A pipeline file (its cache is used).")
        var pipeline: String?
        @Option(help: "Cache folder.")
        var cache: String?

        /// --cache, else the pipeline's own cache, else ./.seedpipe.
        var folder: URL {
            cache.map { URL(fileURLWithPath: $0) }
                ?? pipeline.map { PipelineOptions(pipeline: $0, cache: nil).cacheFolder }
                ?? URL(fileURLWithPath: ".seedpipe")
        }

        /// The local cache's parts, for the commands that look inside it.
        func local() throws -> (store: LocalArtifactStore, actions: LocalActionCache, journal: LocalJournal) {
            let store = try LocalArtifactStore(root: folder)
            return (store, try LocalActionCache(store: store), try LocalJournal(root: folder.appendingPathComponent("journal")))
        }

        func storage() throws -> Storage { try Storage.local(at: folder) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ls", abstract: "Count what the cache holds.",
            discussion: """
                Objects and their size, action records (paid and emulated generations marked),
                journal entries, and the latest records.

                Example:
                  seedpipe cache ls pipelines/waterfall-journey.yaml
                """)
        @OptionGroup var location: Location

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            global.apply()
            let cache = try location.local()
            let objects = cache.store.allObjects()
            let records = await cache.actions.allRecords()
            let journaled = try await cache.journal.all().count
            print("\(cache.store.root.relativePath): \(objects.count) objects, \(Format.bytes(objects.map(\.size).reduce(0, +))); "
                  + "\(plural(records.count, "action")) (\(plural(records.filter(\.paid).count, "paid generation"))"
                  + "\(emulated(records) > 0 ? ", \(emulated(records)) emulated" : "")); \(journaled) journal \(journaled == 1 ? "entry" : "entries")")
            for record in records.sorted(by: { $0.createdAt > $1.createdAt }).prefix(50) {
                let mark = record.paid ? "  paid" : record.cost?.emulated == true ? "  emulated" : ""
                print("  \(record.key.prefix(12))  \(record.stage) (\(record.kind))\(mark)")
            }
        }
    }

    /// Records of work an emulator made (not paid: `gc` may remove them).
    static func emulated(_ records: [ActionRecord]) -> Int { records.filter { $0.cost?.emulated == true }.count }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Re-hash every object; remove those whose bytes changed (they are rebuilt on the next run).",
            discussion: """
                Example:
                  seedpipe cache verify pipelines/waterfall-journey.yaml
                """)
        @OptionGroup var location: Location

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            global.apply()
            let cache = try location.local()
            let store = cache.store
            var bad = 0
            let objects = store.allObjects()
            for object in objects where (try? ContentDigest.sha256(of: store.location(of: object.digest))) != object.digest {
                bad += 1
                store.remove(object.digest)
                print("corrupted: \(object.digest) (removed)")
            }
            // A record naming an object that is gone is not a cached result: removed, remade next run.
            let incomplete = await CacheCollector(store: store, actions: cache.actions, journal: cache.journal).incompleteRecords()
            for (record, missing) in incomplete {
                await cache.actions.remove(record.key)
                print("incomplete: \(record.stage) (\(record.kind)) names \(plural(missing.count, "missing object")) (\(missing.map { String($0.prefix(12)) }.joined(separator: ", "))); its record was removed")
            }
            print("\(plural(objects.count, "object")) checked, \(bad) corrupted, \(plural(incomplete.count, "incomplete record"))")
            if bad > 0 || !incomplete.isEmpty {
                throw CheckFailure(message: "\(bad) corrupted objects and \(incomplete.count) incomplete records were removed; the next run rebuilds them (paid generations are fetched again, not paid twice)")
            }
        }
    }

    struct Collect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove old cached results. Outputs of paid generations are kept unless --include-paid.",
            discussion: """
                An emulator's work is not paid work: it may be removed (the next run makes it
                again, for nothing).

                Examples:
                  seedpipe cache gc pipelines/waterfall-journey.yaml --older-than 30d
                  seedpipe cache gc pipelines/waterfall-journey.yaml --max-size 20GB
                """)
        @OptionGroup var location: Location

        @Option(help: "Remove results older than this: 12h, 30d, 2w.")
        var olderThan: String?

        @Option(help: "Then remove the oldest results until the objects fit: 500MB, 20GB.")
        var maxSize: String?

        @Flag(help: "Also remove the outputs of paid generations.")
        var includePaid = false

        func validate() throws {
            if let olderThan, Self.seconds(olderThan) == nil { throw ValidationError("--older-than \(olderThan): use 12h, 30d or 2w") }
            if let maxSize, Self.bytes(maxSize) == nil { throw ValidationError("--max-size \(maxSize): use 500MB or 20GB") }
        }

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            global.apply()
            let cache = try location.local()
            guard let lock = try FileLock.attempt(Storage.lockFile(of: location.folder)) else {
                throw ValidationError("a run is using this cache; try gc again when it has finished")
            }
            defer { withExtendedLifetime(lock) {} }
            let outcome = try await CacheCollector(store: cache.store, actions: cache.actions, journal: cache.journal)
                .collect(olderThan: olderThan.flatMap(Self.seconds), maxSize: maxSize.flatMap(Self.bytes), includePaid: includePaid)
            let (removed, freed) = (outcome.removedRecords, outcome.freedBytes)
            print("removed \(plural(removed, "result")), freed \(Format.bytes(freed))\(includePaid ? "" : "; paid generations kept")")
        }

        static func seconds(_ text: String) -> Double? {
            guard let unit = text.last, let number = Double(text.dropLast()) else { return nil }
            switch unit {
            case "h": return number * 3600
            case "d": return number * 86_400
            case "w": return number * 604_800
            default: return nil
            }
        }

        static func bytes(_ text: String) -> Int? {
            let upper = text.uppercased()
            for (suffix, scale) in [("GB", 1_000_000_000.0), ("MB", 1_000_000.0), ("KB", 1000.0)] where upper.hasSuffix(suffix) {
                return Double(upper.dropLast(2)).map { Int($0 * scale) }
            }
            return Int(upper)
        }
    }
}
