import Foundation
import MediaTestSupport
import Pipeline
import PipelineTesting
import SeedanceAPI
import SeedpipeKit
import Synchronization
import Testing

/// A team on one cache: two machines (two local caches) sharing a real nginx in Bazel's HTTP
/// layout. Nothing is paid twice between them, and nothing that does not verify is used.
@Suite(.timeLimit(.minutes(10)), .enabled(if: TestNginx.shouldRun, "needs nginx (make test installs it)"))
struct RemoteCacheTests {
    let folder = TemporaryFolder("remote-cache")

    static let pipeline = """
        pipeline: lake
        stages:
          shot: { uses: seedance.generate, with: { prompt: "A still lake at dawn", duration: 4 } }
          poster: { uses: thumbnail, with: { video: "${shot.video}", at: 1 } }
        outputs: { poster: "${poster.image}", clip: "${shot.video}" }
        """

    /// Warnings a run's remote cache gave, in order.
    final class Warnings: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func add(_ line: String) { lines.withLock { $0.append(line) } }
    }

    /// One machine: its own local cache and out folder, the shared remote.
    func machine(_ name: String, remote url: URL, mode: RemoteCache.Mode = .readwrite, seedance: EmulatedSeedance,
                 warnings: Warnings = Warnings()) async throws -> (PipelineRun, RemoteCache) {
        let file = folder.file("lake.yaml")
        if !FileManager.default.fileExists(atPath: file.path) { try Self.pipeline.write(to: file, atomically: true, encoding: .utf8) }
        var project = PipelineProject(file: file, cacheFolder: folder.file("\(name)-cache"))
        let remote = RemoteCache(url: url, mode: mode, auth: "builder:secret-password", warn: { warnings.add($0) })
        project.remoteCache = remote
        let options = PipelineRun.Options(out: folder.file("\(name)-out"), backend: .url(seedance.url), apiKey: APIKey(EmulatedSeedance.key))
        return (try await PipelineRun(project: project, options: options), remote)
    }

    @Test func twoMachinesShareOneCacheAndPayOnce() async throws {
        let nginx = try await TestNginx.start()
        let seedance = try await EmulatedSeedance.start()
        let (first, _) = try await machine("a", remote: nginx.url, seedance: seedance)
        #expect(first.plan.generations == 1)
        _ = try await first.run()
        // Uploaded by the end of the run: the objects, then the records that name them.
        let records = try FileManager.default.contentsOfDirectory(atPath: nginx.store.appendingPathComponent("cache/ac").path)
        #expect(records.count == 2, "\(records)")

        let warnings = Warnings()
        let (second, _) = try await machine("b", remote: nginx.url, seedance: seedance, warnings: warnings)
        #expect(second.plan.generations == 0, "the other machine's generation is found in the team's cache")
        let result = try await second.run()
        #expect(result.report.stages.values.allSatisfy { $0.cached })
        #expect(await seedance.emulator.stats().submitted == 1, "paid once between the two")
        for name in ["poster.jpg", "clip.mp4"] {
            #expect(FileManager.default.contentsEqual(atPath: folder.file("a-out/\(name)").path, andPath: folder.file("b-out/\(name)").path))
        }
        #expect(warnings.all.isEmpty, "\(warnings.all)")
        await nginx.shutDown()
        await seedance.stop()
    }

    @Test func aRemoteThatIsDownLeavesTheRunLocalWithOneWarning() async throws {
        let nginx = try await TestNginx.start()
        await nginx.shutDown()
        let seedance = try await EmulatedSeedance.start()
        let warnings = Warnings()
        let (run, remote) = try await machine("a", remote: nginx.url, seedance: seedance, warnings: warnings)
        let result = try await run.run()
        #expect(result.failure == nil && result.report.emulated.generations == 1)
        #expect(warnings.all.count == 1, "\(warnings.all)")
        #expect(warnings.all.first?.contains("is not usable: nothing listens there (connection refused); this run goes on with the local cache only") == true,
                "\(warnings.all)")
        #expect(!warnings.all.joined().contains("secret-password"), "credentials are never shown")
        #expect(!remote.available)
        await seedance.stop()
    }

    @Test func bytesThatDoNotVerifyAreMissesAndNeverEnterTheLocalStore() async throws {
        let nginx = try await TestNginx.start()
        let seedance = try await EmulatedSeedance.start()
        let (first, _) = try await machine("a", remote: nginx.url, seedance: seedance)
        let made = try await first.run()
        let clip = try #require(made.report.stages["shot"]?.outputs["video"]?.artifact)
        let posterKey = try #require(made.report.stages["poster"]?.key)
        // The clip's bytes replaced on the server; the poster's record cut short.
        try Data("not the clip".utf8).write(to: nginx.file("cas", clip.digest))
        let record = try Data(contentsOf: nginx.file("ac", posterKey))
        try record.prefix(record.count / 2).write(to: nginx.file("ac", posterKey))

        let warnings = Warnings()
        let (second, _) = try await machine("b", remote: nginx.url, seedance: seedance, warnings: warnings)
        #expect(second.plan.generations == 1, "a record whose object does not verify is a miss")
        let result = try await second.run()
        #expect(result.report.stages.values.allSatisfy { !$0.cached }, "both made again here")
        #expect(warnings.all.contains { $0.contains("object \(clip.digest.prefix(12)) does not match its digest") }, "\(warnings.all)")
        #expect(warnings.all.contains { $0.contains("record \(posterKey.prefix(12)) is not a valid action record") }, "\(warnings.all)")
        #expect(Set(warnings.all).count == warnings.all.count, "each reported once")
        let local = try LocalArtifactStore(root: folder.file("b-cache"))
        for object in local.allObjects() {
            #expect(try ContentDigest.sha256(of: local.location(of: object.digest)) == object.digest, "only verified bytes in the local store")
        }
        await nginx.shutDown()
        await seedance.stop()
    }

    @Test func aReadingMachineNeverWrites() async throws {
        let nginx = try await TestNginx.start()
        let seedance = try await EmulatedSeedance.start()
        let (run, _) = try await machine("ci", remote: nginx.url, mode: .read, seedance: seedance)
        _ = try await run.run()
        #expect(!FileManager.default.fileExists(atPath: nginx.store.appendingPathComponent("cache/ac").path), "nothing uploaded")
        await nginx.shutDown()
        await seedance.stop()
    }

    @Test func aRemoteStoppedMidRunLeavesTheRunLocalWithOneWarning() async throws {
        let nginx = try await TestNginx.start()
        let seedance = try await EmulatedSeedance.start()
        let warnings = Warnings()
        let (run, _) = try await machine("a", remote: nginx.url, seedance: seedance, warnings: warnings)
        // nginx goes away as soon as the shot is made (its upload and the poster's look-up follow).
        let stopper = Task {
            for await event in run.events { if case .finished("shot", _, _) = event { await nginx.shutDown() } }
        }
        let result = try await run.run()
        await stopper.value
        #expect(result.failure == nil && result.report.stages.count == 2)
        #expect(warnings.all.count == 1 && warnings.all.first?.contains("this run goes on with the local cache only") == true,
                "\(warnings.all)")
        await seedance.stop()
    }
}
