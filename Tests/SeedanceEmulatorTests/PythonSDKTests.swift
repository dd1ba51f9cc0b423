import Foundation
import Media
import MediaTestSupport
import SeedanceAPI
import SeedanceTestSupport
import Testing

/// The official Python client, which nobody here wrote, must work against the emulator:
/// the API page's example (submit_async + wait) to COMPLETED with a downloadable clip,
/// InferenceFailed for a blocked prompt, and run_sync answering with the MP4.
@Suite(.timeLimit(.minutes(10)), .enabled(if: Referee.which("python3") != nil, "needs python3"))
struct PythonSDKTests {
    static let version = "1.3.0"

    /// Installs segmind==1.3.0 (and its dependencies) once, into a cache folder.
    static func installSDK() throws -> URL {
        let cache = FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache/seedpipe-tests/python-segmind-\(version)")
        if FileManager.default.fileExists(atPath: cache.appendingPathComponent("segmind/v2.py").path) { return cache }
        let install = try Referee.run("python3", ["-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                                  "--target", cache.path, "segmind==\(version)"])
        guard install.status == 0 else {
            throw CocoaError(.featureUnsupported, userInfo: [NSLocalizedDescriptionKey: "pip install segmind failed: \(install.stderr)"])
        }
        return cache
    }

    @Test func officialClientRunsTheSeedExample() async throws {
        let sdk = try Self.installSDK()
        let harness = try await EmulatorHarness(latency: .milliseconds(200))
        try EmulatorClipTests.picture(width: 1280, height: 720, hue: 4).write(to: harness.folder.file("frame.jpg"))
        let frameURL = try await harness.client().upload([harness.folder.file("frame.jpg")])[0]
        let script = harness.folder.file("example.py")
        try """
            import json, sys, urllib.request
            from segmind import SegmindClient, InferenceFailed, InferenceTimeout

            client = SegmindClient(api_key=sys.argv[1], base_url=sys.argv[2] + "/v1", timeout=300)  # a loaded CI machine renders slowly
            payload = {
                "prompt": "The waterfall cascades powerfully down the moss-covered cliffs, churning white water and swirling mist drifting through the air. The camera slowly pushes in toward the falls. Ambient sound of rushing water, a soft forest breeze, and distant birdsong.",
                "first_frame_url": sys.argv[3],
                "reference_images": [],
                "reference_videos": [],
                "reference_audios": [],
                "duration": 5,
                "resolution": "720p",
                "aspect_ratio": "16:9",
                "generate_audio": True,
                "seed": 42,
                "return_last_frame": False,
                "skip_moderation": False,
            }
            out = {}
            job = client.submit_async("seedance-2.0-mini", **payload)
            out["request_id"] = job.request_id
            result = job.wait(timeout=120, interval=0.2)
            out["status"] = result["status"]
            out["output"] = result.get("output")
            with urllib.request.urlopen(result["output"]) as response, open(sys.argv[4], "wb") as f:
                f.write(response.read())
            blocked = client.submit_async("seedance-2.0-mini", prompt="a moderation-test scene", duration=4, resolution="480p")
            try:
                blocked.wait(timeout=60, interval=0.2)
                out["blocked"] = "no exception"
            except InferenceFailed as e:
                out["blocked"] = e.detail
            sync = client.run_sync("seedance-2.0-mini", prompt="a quiet lake", duration=4, resolution="480p")
            out["sync_type"] = sync.headers.get("content-type")
            out["sync_bytes"] = len(sync.content)
            print(json.dumps(out))
            """.write(to: script, atomically: true, encoding: .utf8)
        let clip = harness.folder.file("python.mp4")
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = sdk.path
        environment.removeValue(forKey: "SEGMIND_API_KEY")
        let run = try ChildProcess.run(URL(fileURLWithPath: Referee.which("python3")!),
                                       [script.path, EmulatorHarness.key, harness.url.absoluteString, frameURL, clip.path],
                                       environment: environment)
        #expect(run.status == 0, "python said: \(run.stderr)")
        let out = try #require(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any], "\(run.output)")
        #expect(out["status"] as? String == "COMPLETED")
        #expect((out["output"] as? String)?.hasPrefix(harness.url.absoluteString) == true)
        let info = try MediaInfo.probe(clip)
        #expect(info.video?.width == 1280 && info.video?.height == 720)
        #expect(abs((info.duration ?? 0) - 5) < 0.1)
        #expect((out["blocked"] as? String)?.contains("moderation") == true, "\(out["blocked"] ?? "")")
        #expect(out["sync_type"] as? String == "video/mp4")
        #expect((out["sync_bytes"] as? Int ?? 0) > 10_000)
        let stats = await harness.emulator.stats()
        #expect(stats.submitted == 3 && stats.completed == 2 && stats.failed == 1)
        await harness.stop()
    }
}
