import AsyncHTTPClient
import Foundation
import Media
import MediaTestSupport
import PipelineTesting
import NIOCore
import SeedanceAPI
import SeedanceEmulator
import SeedanceTestSupport
import Testing

@Suite(.timeLimit(.minutes(10))) struct ClientErrorTests {
    /// Loopback is an address, not a prefix of a name.
    @Test(arguments: [("http://127.0.0.1:8080", true), ("http://127.3.4.5", true), ("http://localhost:9", true),
                      ("http://[::1]:8080", true), ("http://127.evil.example", false), ("http://127.0.0.1.example.com", false),
                      ("http://[::2]", false), ("https://api.segmind.com", false), ("http://128.0.0.1", false)])
    func loopbackIsAnAddress(_ address: String, _ loopback: Bool) {
        #expect(SeedanceClient.isLoopback(URL(string: address)!) == loopback, "\(address)")
    }

    @Test func invalidRequestIsNeverSent() async throws {
        let harness = try await EmulatorHarness()
        let error = try await #require(throws: SeedanceError.self) {
            try await harness.client().submit(EmulatorHarness.request { $0.duration = 7 })
        }
        #expect(error.code == .invalidRequest)
        #expect(await harness.emulator.stats().submitted == 0)
        #expect(await harness.emulator.stats().rejected == 0)
        await harness.stop()
    }

    @Test func wrongKeyIs401AndTheKeyNeverShows() async throws {
        let harness = try await EmulatorHarness()
        let error = try await #require(throws: SeedanceError.self) {
            try await harness.client(key: "sk-wrong-9d8e7f").submit(EmulatorHarness.request())
        }
        #expect(error.code == .unauthorized)
        #expect(error.httpStatus == 401)
        #expect(error.description.contains("invalid API key"))
        #expect(!error.description.contains("sk-wrong-9d8e7f"))
        #expect(await harness.emulator.stats().rejected == 1)
        await harness.stop()
    }

    @Test func unknownRequestIs404() async throws {
        let harness = try await EmulatorHarness()
        let client = harness.client()
        let error = try await #require(throws: SeedanceError.self) {
            try await client.status(of: client.job(requestID: "no-such-request"))
        }
        #expect(error.code == .notFound)
        #expect(error.requestID == "no-such-request")
        await harness.stop()
    }

    @Test func serverSideValidationAnswers400NamingTheParameter() async throws {
        let harness = try await EmulatorHarness()
        var request = HTTPClientRequest(url: harness.url.appendingPathComponent("v2/seedance-2.0-mini").absoluteString)
        request.method = .POST
        request.headers.add(name: "x-api-key", value: EmulatorHarness.key)
        request.body = .bytes(ByteBuffer(string: #"{"prompt": "x", "duration": 7, "resolution": "4k"}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        #expect(response.status.code == 400)
        let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
        #expect(body.contains("duration: must be one of 4, 5, 6, 8, 10, 12, 15"))
        #expect(body.contains("resolution: must be one of 480p, 720p, 1080p"))
        var typed = request
        typed.body = .bytes(ByteBuffer(string: #"{"prompt": "x", "duration": "five"}"#))
        let typedResponse = try await HTTPClient.shared.execute(typed, timeout: .seconds(60))
        #expect(typedResponse.status.code == 400)
        #expect(String(buffer: try await typedResponse.body.collect(upTo: 1 << 20)).contains("duration: must be an integer"))
        #expect(await harness.emulator.stats().rejected == 2)
        await harness.stop()
    }

    @Test(arguments: [(400, SeedanceError.Code.badRequest), (402, .insufficientCredits), (403, .forbidden),
                      (500, .serverError), (502, .badGateway), (504, .gatewayTimeout)])
    func submitErrorsAreTypedAndNotRetried(status: Int, code: SeedanceError.Code) async throws {
        let harness = try await EmulatorHarness()
        harness.emulator.injectFaults(script: [Fault(status: status, path: "/v2/seedance")])
        let clock = ImmediateClock()
        let error = try await #require(throws: SeedanceError.self) {
            try await harness.client(clock: clock).submit(EmulatorHarness.request())
        }
        #expect(error.code == code)
        #expect(error.httpStatus == status)
        #expect(error.description.contains("emulated"), "the server's message is kept: \(error)")
        #expect(clock.sleeps.isEmpty, "a billable submit is not retried after HTTP \(status)")
        #expect(await harness.emulator.stats().submitted == 0)
        await harness.stop()
    }

    @Test func rateLimitedSubmitWaitsRetryAfterThenGoesThrough() async throws {
        let harness = try await EmulatorHarness()
        harness.emulator.injectFaults(script: [Fault(status: 429, retryAfter: 7, path: "/v2/seedance")])
        let clock = ImmediateClock()
        let job = try await harness.client(clock: clock).submit(EmulatorHarness.request())
        #expect(!job.requestID.isEmpty)
        #expect(clock.sleeps == [.seconds(7)])
        #expect(await harness.emulator.stats().submitted == 1)
        await harness.stop()
    }

    @Test func rateLimitUntilTheTriesRunOut() async throws {
        let harness = try await EmulatorHarness()
        harness.emulator.injectFaults(script: Array(repeating: Fault(status: 429, retryAfter: 1), count: 3))
        let clock = ImmediateClock()
        let error = try await #require(throws: SeedanceError.self) {
            try await harness.client(clock: clock, retry: RetryPolicy(maximumAttempts: 3)).submit(EmulatorHarness.request())
        }
        #expect(error.code == .rateLimited)
        #expect(clock.sleeps == [.seconds(1), .seconds(1)])
        #expect(await harness.emulator.stats().submitted == 0)
        await harness.stop()
    }

    @Test func readsBackOffExponentiallyOn5xx() async throws {
        let harness = try await EmulatorHarness()
        let client = harness.client(clock: ImmediateClock())
        let job = try await client.submit(EmulatorHarness.request())
        let clock = ImmediateClock()
        harness.emulator.injectFaults(script: [Fault(status: 500, path: "/v2/requests"), Fault(status: 502, path: "/v2/requests"),
                                               Fault(status: 504, path: "/v2/requests")])
        let status = try await harness.client(clock: clock).status(of: job)
        #expect([.queued, .processing, .completed].contains(status.state))
        let sleeps = clock.sleeps
        #expect(sleeps.count == 3)
        for (index, sleep) in sleeps.enumerated() {
            let base = Duration.seconds(1 << index)
            #expect(sleep >= base && sleep <= base * 1.25, "sleep \(index + 1) was \(sleep)")
        }
        await harness.stop()
    }

    @Test func droppedSubmitIsNotResentAndCanBeFoundInHistory() async throws {
        let harness = try await EmulatorHarness()
        harness.emulator.injectFaults(script: [Fault(drop: true, path: "/v2/seedance")])
        let clock = ImmediateClock()
        let client = harness.client(clock: clock)
        let request = EmulatorHarness.request("A lighthouse in a storm, unique-7781")
        let error = try await #require(throws: SeedanceError.self) { try await client.submit(request) }
        #expect(error.code == .submitOutcomeUnknown)
        #expect(clock.sleeps.isEmpty)
        // It was accepted (and would be billed): history finds it by the body that was sent.
        #expect(await harness.emulator.stats().submitted == 1)
        let page = try await client.history()
        let match = page.data.first { $0.requestBody?["prompt"]?.string == request.prompt }
        #expect(match != nil)
        await harness.stop()
    }

    @Test func aRefusedLoopbackConnectionFailsAtOnceWithOneLine() async throws {
        // A port that was just free: nothing listens there.
        let emulator = try SeedanceEmulator()
        let url = try await emulator.start()
        await emulator.stop()
        let clock = ImmediateClock()
        let client = SeedanceClient(endpoints: .single(url), apiKey: APIKey("k"), retry: RetryPolicy(maximumAttempts: 4),
                                    clock: clock)
        let error = try await #require(throws: SeedanceError.self) { try await client.submit(EmulatorHarness.request()) }
        #expect(error.code == .connectionFailed, "\(error)")
        #expect(clock.sleeps.count == 1 && clock.sleeps.allSatisfy { $0 <= .milliseconds(500) }, "one short retry at most: \(clock.sleeps)")
        let line = "\(error)"
        #expect(line.contains("nothing listens on") && line.contains("(connection refused)") && !line.contains("\n"), "\(line)")
        #expect(line.filter { $0 == "(" }.count == line.filter { $0 == ")" }.count, "balanced: \(line)")
        // When asked, a refused submit is retried as any connection never made (it cannot have been accepted).
        let patient = ImmediateClock()
        let retrying = SeedanceClient(endpoints: .single(url), apiKey: APIKey("k"),
                                      retry: RetryPolicy(maximumAttempts: 4, refusedLoopbackAttempts: 4), clock: patient)
        await #expect(throws: SeedanceError.self) { try await retrying.submit(EmulatorHarness.request()) }
        #expect(patient.sleeps.count == 3)
    }

    @Test func downloadsRetryAndRespectTheCap() async throws {
        let harness = try await EmulatorHarness()
        let client = harness.client(clock: ImmediateClock())
        let result = try await client.wait(for: try await client.submit(EmulatorHarness.request()), interval: .milliseconds(20))
        let output = try #require(result.output)
        harness.emulator.injectFaults(script: [Fault(status: 502, path: "/files/"), Fault(drop: true, path: "/files/")])
        let file = harness.folder.file("clip.mp4")
        let bytes = try await client.download(output, to: file)
        #expect(bytes > 10_000)
        #expect(try Data(contentsOf: file).count == bytes)
        let capped = harness.folder.file("capped.mp4")
        let error = try await #require(throws: SeedanceError.self) {
            try await client.download(output, to: capped, maximumBytes: 1000)
        }
        #expect(error.code == .downloadTooLarge)
        #expect(!FileManager.default.fileExists(atPath: capped.path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: harness.folder.url.path).filter { $0.hasSuffix(".partial") }
        #expect(leftovers.isEmpty)
        await harness.stop()
    }

    /// A download whose body stops halfway (the connection closed) is fetched again from
    /// the bytes already written with `Range`; a server that ignores Range sends it whole and
    /// the client starts over. Either way the file is whole, and a torn one is never kept.
    @Test(arguments: [true, false])
    func aDownloadCutOffMidwayResumesOrStartsOver(honoursRange: Bool) async throws {
        let seedance = try await EmulatedSeedance.start(truncateRate: 1, honoursRange: honoursRange)
        let client = seedance.client(clock: ImmediateClock())
        let result = try await client.wait(for: try await client.submit(EmulatorHarness.request()), interval: .milliseconds(20))
        let output = try #require(result.output)
        let folder = TemporaryFolder("torn")
        let bytes = try await client.download(output, to: folder.file("clip.mp4"))
        #expect(await seedance.emulator.stats().truncated == 1, "the first answer was cut off")
        let again = try await client.download(output, to: folder.file("again.mp4"))
        #expect(bytes == again && bytes > 10_000)
        #expect(FileManager.default.contentsEqual(atPath: folder.file("clip.mp4").path, andPath: folder.file("again.mp4").path),
                "resumed (or restarted) bytes equal a clean download's")
        #expect(try MediaInfo.probe(folder.file("clip.mp4")).video != nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).allSatisfy { !$0.hasSuffix(".partial") })
        await seedance.stop()
    }

    @Test func slowAnswersAreSlow() async throws {
        let clock = ImmediateClock()
        let harness = try await EmulatorHarness(clock: clock)
        let client = harness.client()
        let job = try await client.submit(EmulatorHarness.request())
        harness.emulator.injectFaults(script: [Fault(delay: 0.4, path: "/v2/requests")])
        let before = clock.sleeps.count
        _ = try await client.status(of: job)
        #expect(await harness.emulator.stats().faultsInjected == 1)
        #expect(clock.sleeps.dropFirst(before).contains(.milliseconds(400)), "the answer was held 0.4 s on the emulator's clock: \(clock.sleeps)")
        await harness.stop()
    }

    @Test func readsRideOutRandomErrors() async throws {
        let harness = try await EmulatorHarness()
        let client = harness.client(retry: RetryPolicy(maximumAttempts: 12, baseDelay: .milliseconds(5),
                                                       maximumDelay: .milliseconds(40)))
        let jobs = try await (0..<4).asyncMap { index in try await client.submit(EmulatorHarness.request("job \(index)")) }
        // From here on, 30 % of answers are 429/500/502/504 (Retry-After kept short).
        var rates = FaultRates.errors(0.3, seed: 42)
        rates.retryAfter = 0.01
        harness.emulator.injectFaults(rates: rates)
        for (index, job) in jobs.enumerated() {
            let result = try await client.wait(for: job, interval: .milliseconds(20))
            try await client.download(try #require(result.output), to: harness.folder.file("\(index).mp4"))
        }
        let stats = await harness.emulator.stats()
        #expect(stats.faultsInjected > 0)
        #expect(stats.submitted == 4)
        await harness.stop()
    }

    @Test func historyRejectsABadPageSizeBeforeSending() async throws {
        let harness = try await EmulatorHarness()
        let error = try await #require(throws: SeedanceError.self) { try await harness.client().history(perPage: 101) }
        #expect(error.code == .invalidRequest)
        await harness.stop()
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}
