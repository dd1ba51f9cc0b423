import AsyncHTTPClient
import Foundation
import Media
import MediaTestSupport
import NIOCore
import NIOHTTP1
import SeedpipeKit
import Testing

/// `seedpipe studio` as a user opens it: its HTTP surface (ranges, the token, no way out of
/// the cache and the outputs), and the page in a real browser (chromium, driven by selenium).
@Suite(.timeLimit(.minutes(10)), .serialized) struct StudioTests {
    static let secret = "studio-test-secret-key"
    static let pipeline = """
        pipeline: film
        defaults:
          seedance: { resolution: 480p, duration: 4 }
        stages:
          prompts:
            uses: template
            with:
              template: "Shot {{index}}: a lighthouse {{beat}}"
              each: [{ beat: "at dawn" }, { beat: "in a storm" }]
          shots: { uses: seedance.chain, with: { prompts: "${prompts.texts}", first_frame: first.png, takes: 2 } }
          film: { uses: concat, with: { clips: "${shots.clips}" } }
        outputs: { film: "${film.video}" }
        """

    /// A folder with the pipeline run once (offline), and a studio on it.
    final class Studio: @unchecked Sendable {
        let folder = TemporaryFolder("studio")
        let process = Process()
        var url: URL!

        init(pipeline: String = StudioTests.pipeline) async throws {
            try pipeline.write(to: folder.file("film.yaml"), atomically: true, encoding: .utf8)
            try Fixtures.picture(folder.file("first.png"), red: 40, green: 100, blue: 180)
            let run = try await SeedpipeBinary.run(["run", "film.yaml", "--cache", "cache", "--backend", "emulator", "--emulator-latency", "0.1"],
                                                   in: folder)
            try #require(run.status == 0, "\(run.stderr)")
            process.executableURL = SeedpipeBinary.url
            process.arguments = ["studio", "film.yaml", "--cache", "cache", "--backend", "emulator", "--emulator-latency", "0.3"]
            process.currentDirectoryURL = folder.url
            var environment = SeedpipeBinary.offline
            environment["SEGMIND_API_KEY"] = StudioTests.secret  // must never reach the page
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            let errors = folder.file("studio.stderr")
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: errors)
            try process.run()
            // The first line names the URL.
            let line = try await Thread.detached {
                var data = Data()
                while !data.contains(UInt8(ascii: "\n")) {
                    let chunk = output.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    data += chunk
                }
                return String(decoding: data, as: UTF8.self)
            }
            let address = try #require(line.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("http://") }.map(String.init),
                                       "the studio printed its URL: \(line)")
            url = try #require(URL(string: address))
        }

        var token: String { URLComponents(url: url, resolvingAgainstBaseURL: false)?.queryItems?.first { $0.name == "token" }?.value ?? "" }
        var base: String { "\(url.scheme!)://\(url.host!):\(url.port!)" }

        /// The studio's cookie, as a browser holds it once the printed URL was opened.
        var cookie: (String, String) { ("cookie", "seedpipe_studio=\(token)") }

        /// A GET, with the studio's cookie unless `authenticated` is false; redirects are not followed.
        func get(_ path: String, headers: [(String, String)] = [], authenticated: Bool = true) async throws -> (Int, HTTPHeaders, Data) {
            var request = HTTPClientRequest(url: base + path)
            if authenticated { request.headers.add(name: cookie.0, value: cookie.1) }
            for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
            let response = try await Self.client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 64 << 20)
            return (Int(response.status.code), response.headers, Data(buffer: body))
        }

        /// A client that does not follow redirects (the tokened URL answers with one).
        static let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                       configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

        func post(_ path: String, _ json: String, token: String?, headers: [(String, String)] = []) async throws -> (Int, String) {
            var request = HTTPClientRequest(url: base + path)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            if let token { request.headers.add(name: "x-studio-token", value: token) }
            for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
            request.body = .bytes(ByteBuffer(string: json))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
        }

        func stop() {
            process.interrupt()
            process.waitUntilExit()
        }
    }

    @Test func rangesTheTokenAndNoPathOutOfTheCache() async throws {
        let studio = try await Studio()
        defer { studio.stop() }
        #expect(studio.url.host == "127.0.0.1", "loopback by default")
        let port = try #require(studio.url.port)
        // Private: nothing answers without the token, whatever is asked.
        for path in ["/", "/api/state", "/events", "/media/0.mp4", "/poster/0.jpg", "/out/run.json", "/out/film.mp4"] {
            let (code, _, body) = try await studio.get(path, authenticated: false)
            #expect(code == 403, "\(path) answered \(code) without the token")
            #expect(!String(decoding: body, as: UTF8.self).contains("lighthouse"), "\(path)")
            #expect(try await studio.get(path, headers: [("cookie", "seedpipe_studio=0123")], authenticated: false).0 == 403, "\(path)")
        }
        // The printed URL sets the cookie (HttpOnly, SameSite=Strict) and sends the browser to the
        // same page without the token in its address; a wrong token gets nothing.
        let (opened, openedHeaders, _) = try await studio.get("/?token=\(studio.token)", authenticated: false)
        #expect(opened == 303 && openedHeaders.first(name: "location") == "/", "\(opened) \(openedHeaders)")
        let setCookie = openedHeaders.first(name: "set-cookie") ?? ""
        #expect(setCookie.contains("seedpipe_studio=\(studio.token)") && setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict")
                && setCookie.contains("Path=/"), "\(setCookie)")
        #expect(try await studio.get("/?token=0000", authenticated: false).0 == 403)
        // The x-studio-token header does as the cookie does (scripts), and loopback names with the port pass.
        #expect(try await studio.get("/api/state", headers: [("x-studio-token", studio.token)], authenticated: false).0 == 200)
        #expect(try await studio.get("/", headers: [("host", "localhost:\(port)")]).0 == 200)
        // DNS rebinding: a page of another site resolving its name to 127.0.0.1 sends its own Host: 403, even with the cookie.
        for host in ["evil.example:\(port)", "evil.example", "127.0.0.1", "127.0.0.1:\(port + 1)", "127.0.0.1.evil.example:\(port)"] {
            #expect(try await studio.get("/api/state", headers: [("host", host)]).0 == 403, "Host: \(host)")
        }
        // A change from another site's page (its Origin) is refused, even with the token; the studio's own Origin passes.
        let preview = #"{"stage": "shots-1", "take": 2, "preview": true}"#
        #expect(try await studio.post("/api/pick", preview, token: studio.token, headers: [("origin", "http://evil.example")]).0 == 403)
        #expect(try await studio.post("/api/pick", preview, token: studio.token, headers: [("origin", "http://127.0.0.1:\(port)")]).0 == 200)

        let (status, _, page) = try await studio.get("/")
        #expect(status == 200 && String(decoding: page, as: UTF8.self).contains("data-action=\"run\""))
        let (_, _, stateData) = try await studio.get("/api/state")
        let state = try JSONSerialization.jsonObject(with: stateData) as! [String: Any]
        let shots = try #require(state["shots"] as? [[String: Any]])
        #expect(shots.map { $0["shot"] as? String } == ["shots-1", "shots-2"])
        // The runs so far (the one that made the takes), as `seedpipe log` has them.
        let runs = try #require(state["runs"] as? [[String: Any]])
        #expect(runs.count == 1 && runs.first?["status"] as? String == "succeeded" && (runs.first?["generated"] as? Int) == 4, "\(runs)")
        let take = try #require((shots[0]["takes"] as? [[String: Any]])?.first)
        let digest = try #require(take["digest"] as? String)

        // Range requests: a slice, a suffix, and one past the end.
        let (whole, wholeHeaders, video) = try await studio.get("/media/\(digest).mp4")
        #expect(whole == 200 && wholeHeaders.first(name: "accept-ranges") == "bytes" && video.count > 1000)
        let (partial, headers, slice) = try await studio.get("/media/\(digest).mp4", headers: [("range", "bytes=100-199")])
        #expect(partial == 206 && slice == video[100..<200])
        #expect(headers.first(name: "content-range") == "bytes 100-199/\(video.count)")
        let (_, _, tail) = try await studio.get("/media/\(digest).mp4", headers: [("range", "bytes=-10")])
        #expect(tail == video.suffix(10))
        let (beyond, _, _) = try await studio.get("/media/\(digest).mp4", headers: [("range", "bytes=\(video.count + 5)-")])
        #expect(beyond == 416)

        // Changes need the launch's token (here in its header, without the cookie).
        let pick = #"{"stage": "shots-1", "take": 2, "preview": true}"#
        #expect(try await studio.post("/api/pick", pick, token: nil).0 == 403)
        #expect(try await studio.post("/api/pick", pick, token: "wrong").0 == 403)
        #expect(try await studio.post("/api/run", "{}", token: nil).0 == 403)
        #expect(try await studio.post("/api/reroll", #"{"stage": "shots-1"}"#, token: "").0 == 403)
        let allowed = try await studio.post("/api/pick", pick, token: studio.token)
        #expect(allowed.0 == 200 && allowed.1.contains("emulates"), "offline, the next run emulates: \(allowed)")
        #expect(!FileManager.default.fileExists(atPath: studio.folder.file("film.picks.yaml").path), "a preview writes nothing")
        let reroll = try await studio.post("/api/reroll", #"{"stage": "shots-1", "keep_after": true, "preview": true}"#, token: studio.token)
        #expect(reroll.0 == 200 && reroll.1.contains("reroll shots-1: take 3 (seed 44), between its neighbours"), "\(reroll)")
        let storyless = try await studio.post("/api/pick", #"{"stage": "shots-9", "take": 1}"#, token: studio.token)
        #expect(storyless.0 == 400 && storyless.1.contains("has no shot `shots-9`"), "\(storyless)")

        // Nothing else on disk can be reached.
        for path in ["/media/..%2F..%2Ffilm.yaml", "/media/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/out/..%2Ffilm.yaml", "/out/%2e%2e",
                     "/out/%2Fetc%2Fpasswd", "/poster/..%2Fcache%2Factions.lock", "/media/\(digest)", "/media/\(digest.uppercased()).mp4",
                     "/out/film.yaml", "/../film.yaml", "/media//etc/passwd"] {
            let (code, _, body) = try await studio.get(path)
            #expect(code == 404, "\(path) answered \(code)")
            #expect(!String(decoding: body, as: UTF8.self).contains("pipeline: film"), "\(path)")
        }
        // A run started from the CLI in another terminal on the same cache is pushed to the page as it goes.
        let (connected, connection) = AsyncStream.makeStream(of: Void.self)
        let stream = Task {
            defer { connection.finish() }
            var request = HTTPClientRequest(url: studio.base + "/events")
            request.headers.add(name: studio.cookie.0, value: studio.cookie.1)
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            var text = ""
            for try await chunk in response.body {
                text += String(buffer: chunk)
                // The studio writes this comment once the page's stream follows the live log.
                if text.hasPrefix(": seedpipe studio") { connection.finish() }
                // The run so far comes first (the one that made the takes), then the CLI's.
                if text.components(separatedBy: "\"event\":\"run_finished\"").count > 2 { break }
            }
            return text
        }
        for await _ in connected {}  // subscribed: a wait on the event, not a sleep standing in for it
        let cli = try await SeedpipeBinary.run(["run", "film.yaml", "--cache", "cache", "--backend", "emulator"], in: studio.folder)
        #expect(cli.status == 0, "\(cli.stderr)")
        let pushed = try await stream.value
        #expect(pushed.contains("data: {\"at\":") && pushed.contains("\"event\":\"run_started\""), "\(pushed.prefix(300))")
        #expect(pushed.contains("\"event\":\"cache_hit\",\"key\":") && pushed.contains("\"stage\":\"shots-2#1\""), "\(pushed.prefix(600))")
        // Each pushed line is a RunEvent (docs/EVENTS.md); the CLI's run ends the stream, succeeded.
        let events = try pushed.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }.map { try RunEvent(jsonLine: $0.dropFirst(6)) }
        guard case .runFinished(let finished)? = events.last else { Issue.record("the stream ends with run_finished"); return }
        #expect(finished.ok && finished.exitCode == 0)

        // The API key never reaches the page; the token is in no file (live log, run.json, journal, records).
        #expect(!pushed.contains(Self.secret))
        let files = FileManager.default.enumerator(at: studio.folder.url, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        for file in files {
            guard let data = try? Data(contentsOf: file) else { continue }
            #expect(data.range(of: Data(studio.token.utf8)) == nil, "\(file.lastPathComponent) holds the studio's token")
        }
        for path in ["/", "/api/state"] {
            #expect(!String(decoding: try await studio.get(path).2, as: UTF8.self).contains(Self.secret))
        }
    }

    @Test func finishingATakeShowsItsCostThenMakesTheShotInTheFinalProfile() async throws {
        let profiled = Self.pipeline.replacingOccurrences(of: "defaults:", with: """
            profiles:
              draft: { resolution: 480p }
              final: { resolution: 720p }
            default_profile: draft
            defaults:
            """)
        let studio = try await Studio(pipeline: profiled)
        defer { studio.stop() }
        func state() async throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: try await studio.get("/api/state").2) as! [String: Any]
        }
        let before = try await state()
        #expect(before["finishProfile"] as? String == "final", "\(before.keys)")
        let shots = try #require(before["shots"] as? [[String: Any]])
        #expect(shots.map { $0["finished_profile"] as? String } == ["final", "final"])
        #expect(shots.map { ($0["finished"] as? [String: Any])?["state"] as? String } == ["not made", "waiting"])

        // The preview says what finishing take 2 of shot 2 makes (shot 1's final first: a chain) and writes nothing.
        let preview = try await studio.post("/api/finish", #"{"stage": "shots-2", "take": 2, "preview": true}"#, token: studio.token)
        #expect(preview.0 == 200 && preview.1.contains("finish shots-2 take 2 in final (picking it): final: 2 generations at 720p, 8 s of video"),
                "\(preview)")
        #expect(!FileManager.default.fileExists(atPath: studio.folder.file("film.picks.yaml").path))
        let drafted = try await studio.post("/api/finish", #"{"stage": "shots-2", "take": 2, "profile": "draft", "preview": true}"#,
                                            token: studio.token)
        #expect(drafted.0 == 400 && drafted.1.contains("takes are explored in `draft`"), "\(drafted)")

        let finish = try await studio.post("/api/finish", #"{"stage": "shots-2", "take": 2}"#, token: studio.token)
        #expect(finish.0 == 200 && finish.1.contains("finishing"), "\(finish)")
        let made = await eventually {
            let shots = (try? await state())?["shots"] as? [[String: Any]] ?? []
            return shots.count == 2 && (shots[1]["finished"] as? [String: Any])?["state"] as? String == "done"
        }
        #expect(made, "shot 2 finished")
        let after = try #require(try await state()["shots"] as? [[String: Any]])
        #expect((after[1]["finished"] as? [String: Any])?["seed"] as? Int == 43, "take 2's seed")
        #expect(after[1]["picked"] as? Int == 2)
        #expect(try String(contentsOf: studio.folder.file("film.picks.yaml"), encoding: .utf8).contains("take: 2"))
        let video = try #require((after[1]["finished"] as? [String: Any])?["digest"] as? String)
        let (code, _, body) = try await studio.get("/media/\(video).mp4")
        #expect(code == 200 && body.count > 1000)
    }

    @Test func theStudioPrintsNoServerLogLines() async throws {
        let studio = try await Studio()
        _ = try await studio.get("/?token=\(studio.token)", authenticated: false)
        studio.stop()
        let stderr = try String(contentsOf: studio.folder.file("studio.stderr"), encoding: .utf8)
        #expect(!stderr.contains("Hummingbird") && !stderr.contains("CancellationError") && !stderr.contains("Server started"), "\(stderr)")
    }

    /// The Python with selenium, when chromium and its driver are here; nil (the test skipped) only
    /// where nothing says they should be (`make test` and CI install them and set SEEDPIPE_BROWSER_PYTHON).
    static func browserPython() -> String? {
        let configured = ProcessInfo.processInfo.environment["SEEDPIPE_BROWSER_PYTHON"]
        let python = configured ?? FileManager.default.currentDirectoryPath + "/.build/browser-venv/bin/python"
        let ready = FileManager.default.isExecutableFile(atPath: python) && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
        guard ready else {
            #expect(configured == nil, "SEEDPIPE_BROWSER_PYTHON=\(configured ?? "") but the browser or selenium is missing")
            print("skipped: no chromium/selenium here (make test installs them)")
            return nil
        }
        return python
    }

    static func browserScript(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Browser/\(name)")
    }

    @Test func finishingATakeAndASmartCutFilmInARealBrowser() async throws {
        guard let python = Self.browserPython() else { return }
        let studio = try await Studio(pipeline: Self.pipeline
            .replacingOccurrences(of: "defaults:", with: "profiles:\n  draft: { resolution: 480p }\n  final: { resolution: 720p }\ndefault_profile: draft\ndefaults:")
            .replacingOccurrences(of: "  film: { uses: concat", with: "  cut: { uses: trim, with: { video: \"${shots.clips[0]}\", start: 0.5 } }\n  film: { uses: concat")
            .replacingOccurrences(of: "outputs: { film: \"${film.video}\" }", with: "outputs: { film: \"${film.video}\", cut: \"${cut.video}\" }"))
        defer { studio.stop() }
        let run = try JSONSerialization.jsonObject(with: Data(contentsOf: studio.folder.file("out/film/draft/run.json"))) as? [String: Any]
        let cut = (run?["stages"] as? [[String: Any]])?.first { $0["stage"] as? String == "cut" }
        #expect(cut != nil)
        let tags = try Referee.streams(studio.folder.file("out/film/draft/cut.mp4")).compactMap { $0["codec_tag_string"] as? String }
        #expect(tags.first == "avc3", "the cut is a smart cut: \(tags)")
        let outcome = try await Thread.detached {
            try ChildProcess.run(URL(fileURLWithPath: python), [Self.browserScript("studio_finish_browser_test.py").path, studio.url.absoluteString, "shots-1"])
        }
        #expect(outcome.status == 0, "\(outcome.output)\n\(outcome.stderr)")
        #expect(outcome.output.contains("ok: finishing take 2 made the shot in final, and it plays"), "\(outcome.output)")
        #expect(outcome.output.contains("ok: the smart-cut film (avc3) plays past its seams"), "\(outcome.output)")
        print(outcome.output)
    }

    @Test func thePageInARealBrowser() async throws {
        guard let python = Self.browserPython() else { return }
        let studio = try await Studio()
        defer { studio.stop() }
        let script = Self.browserScript("studio_browser_test.py")
        let outcome = try await Thread.detached {
            try ChildProcess.run(URL(fileURLWithPath: python),
                                 [script.path, studio.url.absoluteString, studio.folder.file("film.picks.yaml").path,
                                  #"{"shots-1": 2, "shots-2": 2}"#])
        }
        #expect(outcome.status == 0, "\(outcome.output)\n\(outcome.stderr)")
        #expect(outcome.output.contains("ok: a take played to its end"), "\(outcome.output)")
        #expect(outcome.output.contains("ok: a take kept playing through the run's updates"), "\(outcome.output)")
        #expect(outcome.output.contains("ok: the token left the address; the film, then the shots in pipeline order"), "\(outcome.output)")
        print(outcome.output)
        let picks = try String(contentsOf: studio.folder.file("film.picks.yaml"), encoding: .utf8)
        #expect(picks.contains("shots-1:\n  take: 2\n"), "\(picks)")
    }
}

