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

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Re-hash every object; remove those whose bytes changed (they are rebuilt on the next run).",
            discussion: """
                Example:
                  seedpipe cache verify pipelines/waterfall-journey.yaml
                """)
        @OptionGroup var location: Location

        @OptionGroup var global: GlobalOptions

        func run() throws {
            global.apply()
            let store = try location.local().store
            var bad = 0
            let objects = store.allObjects()
            for object in objects where (try? ContentDigest.sha256(of: store.location(of: object.digest))) != object.digest {
                bad += 1
                store.remove(object.digest)
                print("corrupted: \(object.digest) (removed)")
            }
            print("\(plural(objects.count, "object")) checked, \(bad) corrupted")
            if bad > 0 { throw CheckFailure(message: "\(bad) corrupted objects were removed; the next run rebuilds them") }
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
            var records = await cache.actions.allRecords().sorted { $0.createdAt < $1.createdAt }
            var removed = 0
            func remove(_ record: ActionRecord) async {
                await cache.actions.remove(record.key)
                records.removeAll { $0.key == record.key }
                removed += 1
            }
            if let olderThan, let age = Self.seconds(olderThan) {
                for record in records where Date().timeIntervalSince(record.createdAt) > age && (includePaid || !record.paid) {
                    await remove(record)
                }
            }
            var kept = Set(records.flatMap { $0.outputs.values.flatMap(\.artifacts).map(\.digest) })
            if !includePaid {
                // Downloaded generations stay, even without their action record. The journal
                // entries themselves always stay: they hold the request ids to recover from.
                // Whatever a journal record names is kept: a stage journals what it paid for
                // (an emulator's work is not paid for: it may go, and is made again for nothing).
                kept.formUnion(try await cache.journal.all().filter { $0.payload.object?["emulated"]?.bool != true }
                    .flatMap { $0.payload.artifacts.map(\.digest) })
            }
            var freed = 0
            var objects = cache.store.allObjects()
            for object in objects where !kept.contains(object.digest) {
                cache.store.remove(object.digest)
                freed += object.size
            }
            objects = cache.store.allObjects()
            if let maxSize, let limit = Self.bytes(maxSize) {
                var total = objects.map(\.size).reduce(0, +)
                for record in records where total > limit && (includePaid || !record.paid) {
                    await remove(record)
                    for artifact in record.outputs.values.flatMap(\.artifacts) where !records.contains(where: {
                        $0.outputs.values.flatMap(\.artifacts).contains(artifact)
                    }) {
                        cache.store.remove(artifact.digest)
                        total -= artifact.size
                        freed += artifact.size
                    }
                }
            }
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
