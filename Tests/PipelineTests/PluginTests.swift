import Foundation
import Logging
import MediaTestSupport
@testable import Pipeline
import PipelineTesting
import Testing

/// Writes plugin folders (manifest + a POSIX shell or Python program) for the tests.
struct PluginMaker {
    let root: URL

    @discardableResult
    func make(_ name: String, in folder: String = "plugins", version: String = "1.0.0", kind: String? = nil,
              program: String, stage: String = "outputs: { text: text }", timeout: Double? = nil,
              interpreter: String = "/bin/sh") throws -> URL {
        let pluginFolder = root.appendingPathComponent(folder).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: pluginFolder, withIntermediateDirectories: true)
        let manifest = """
            name: \(name)
            version: \(version)
            command: run
            \(timeout.map { "timeout: \($0)" } ?? "")
            stages:
              \(kind ?? name):
                \(stage.replacingOccurrences(of: "\n", with: "\n    "))
            """
        try manifest.write(to: pluginFolder.appendingPathComponent("plugin.yaml"), atomically: true, encoding: .utf8)
        let script = pluginFolder.appendingPathComponent("run")
        try "#!\(interpreter)\n\(program)\n".write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        return pluginFolder
    }
}

@Suite(.timeLimit(.minutes(10))) struct PluginTests {
    let folder = TemporaryFolder("plugins")
    var maker: PluginMaker { PluginMaker(root: folder.url) }

    /// Loads `yaml` as p.yaml with the plugins in `plugins/` beside it, and runs it.
    func run(_ yaml: String, recorder: Recorder = Recorder(), options: ExecutionOptions = ExecutionOptions(),
             events: AsyncStream<ExecutionEvent>.Continuation? = nil, logs: LogBox? = nil) async throws -> RunReport {
        let pipeline = try load(yaml, recorder: recorder)
        let logger = logs.map { box in Logger(label: "test") { _ in CapturingLogHandler(box: box) } }
        return try await Executor(pipeline: pipeline, storage: try storage(), options: options,
                                  logger: logger ?? Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
            .run(events: events)
    }

    func storage() throws -> Storage { try Storage.local(at: folder.file(".seedpipe")) }

    func load(_ yaml: String, recorder: Recorder = Recorder()) throws -> ValidatedPipeline {
        let file = folder.file("p.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        var registry = testRegistry(recorder)
        let catalog = PluginCatalog.discover(in: PluginCatalog.searchPath(pipeline: file, projectFolder: folder.url, environment: [:]))
        try catalog.register(into: &registry)
        return try PipelineValidator.validate(try PipelineFile.load(file, registry: registry), registry: registry)
    }

    /// The message of the stage failure `body` throws.
    func failure(_ body: () async throws -> Void) async -> String {
        do {
            try await body()
            return "no failure"
        } catch {
            return "\(error)"
        }
    }

    // MARK: Discovery

    @Test func searchOrderIsBesideThePipelineThenProjectThenEnvironment() throws {
        let pipeline = folder.url.appendingPathComponent("films/p.yaml")
        let path = PluginCatalog.searchPath(pipeline: pipeline, projectFolder: folder.url,
                                            environment: ["SEEDPIPE_PLUGIN_PATH": "/opt/a:/opt/b::\(folder.url.path)/plugins"])
        #expect(path.map(\.url.path) == [folder.url.path + "/films/plugins", folder.url.path + "/plugins", "/opt/a", "/opt/b"])
        #expect(path.map(\.origin) == [.besidePipeline, .project, .environment, .environment])
    }

    @Test func theFirstPluginOfANameWinsAndLaterOnesAreShadowed() throws {
        let echo = "cat >/dev/null; echo '{\"type\":\"result\",\"outputs\":{\"text\":\"%@\"}}'"
        try maker.make("greeter", in: "films/plugins", version: "3.0.0", program: echo.replacingOccurrences(of: "%@", with: "beside"))
        try maker.make("greeter", in: "plugins", version: "2.0.0", program: echo.replacingOccurrences(of: "%@", with: "project"))
        try maker.make("greeter", in: "extra", version: "1.0.0", program: echo.replacingOccurrences(of: "%@", with: "path"))
        // Another plugin offering the same stage kind, found later: the kind stays with the first.
        try maker.make("copycat", in: "extra", kind: "greeter", program: echo.replacingOccurrences(of: "%@", with: "copycat"))
        try maker.make("solo", in: "extra", program: echo.replacingOccurrences(of: "%@", with: "solo"))

        let catalog = PluginCatalog.discover(in: PluginCatalog.searchPath(
            pipeline: folder.url.appendingPathComponent("films/p.yaml"), projectFolder: folder.url,
            environment: ["SEEDPIPE_PLUGIN_PATH": folder.url.appendingPathComponent("extra").path]))
        #expect(catalog.problems.isEmpty)
        #expect(catalog.plugins.map(\.name) == ["greeter", "copycat", "solo"])
        #expect(catalog.plugins.first?.manifest.version == "3.0.0")
        #expect(catalog.plugins.first?.origin == .besidePipeline)
        #expect(catalog.shadowed.map { "\($0.plugin.name) \($0.plugin.version)" } == ["greeter 2.0.0", "greeter 1.0.0"])
        #expect(catalog.shadowedKinds.map { "\($0.plugin)/\($0.kind)" } == ["copycat/greeter"])
        #expect(catalog.stages().map { "\($0.plugin.name)/\($0.kind)" } == ["greeter/greeter", "solo/solo"])
    }

    // MARK: Manifests

    @Test(arguments: [
        ("name: x\nversion: 1\ncommand: run\nstages:\n  x:\n    ouputs: { a: text }\n", "plugin.yaml:6:5", "did you mean `outputs`?"),
        ("name: x\nversion: 1\ncommand: run\nstages:\n  x:\n    outputs: { a: vidoe }\n", "plugin.yaml:6:19", "did you mean `video`?"),
        ("name: x\nversion: 1\nstages:\n  x:\n    outputs: { a: text }\n", "plugin.yaml:1:1", "no `command:`"),
        ("name: x\nversion: 1\nprotocol: 2\ncommand: run\nstages:\n  x:\n    outputs: { a: text }\n", "plugin.yaml:3:11",
         "speaks protocol 2; this seedpipe speaks 1"),
        ("name: x\nversion: 1\ncommand: run\nstages:\n  x:\n    outputs: { a: text }\n    parameters:\n      n: { type: integer, default: 2.5 }\n",
         "plugin.yaml:8:36", "the default does not fit"),
        ("name: x\nversion: 1\ncommand: run\nstages:\n  x:\n    inputs: { a: text }\n", "plugin.yaml:5:3", "declares no outputs"),
        ("name: X Y\nversion: 1\ncommand: run\nstages:\n  x:\n    outputs: { a: text }\n", "plugin.yaml:1:7", "cannot name a plugin"),
        ("name: x\nversion: 1\ncommand: run\nstages:\n  x:\n    outputs: { a: text }\n    parameters: { n: { type: numbr } }\n",
         "plugin.yaml:7:30", "did you mean `number`?"),
        ("name: x\nversion: 1\ncommand: run\ntimout: 5\nstages:\n  x:\n    outputs: { a: text }\n", "plugin.yaml:4:1", "did you mean `timeout`?"),
        ("name: x\n  version: 1\n", "plugin.yaml:2:10", "YAML"),
    ])
    func manifestMistakesAreReportedWhereTheyAre(text: String, location: String, message: String) throws {
        let pluginFolder = folder.url.appendingPathComponent("plugins/x")
        try FileManager.default.createDirectory(at: pluginFolder, withIntermediateDirectories: true)
        try text.write(to: pluginFolder.appendingPathComponent("plugin.yaml"), atomically: true, encoding: .utf8)
        let catalog = PluginCatalog.discover(in: [.init(folder.url.appendingPathComponent("plugins"), origin: .project)])
        let problems = catalog.problems.map(\.description)
        #expect(catalog.plugins.isEmpty)
        #expect(problems.contains { $0.contains(location) && $0.contains(message) }, "\(problems)")
    }

    @Test func aMissingProgramAndABuiltInNameAreErrors() throws {
        let pluginFolder = folder.url.appendingPathComponent("plugins/ghost")
        try FileManager.default.createDirectory(at: pluginFolder, withIntermediateDirectories: true)
        try "name: ghost\nversion: 1\ncommand: ./not-there\nstages:\n  ghost: { outputs: { a: text } }\n"
            .write(to: pluginFolder.appendingPathComponent("plugin.yaml"), atomically: true, encoding: .utf8)
        try maker.make("shadow", kind: "emit", program: "exit 0")
        try maker.make("working", program: "exit 0")
        let catalog = PluginCatalog.discover(in: [.init(folder.url.appendingPathComponent("plugins"), origin: .project)])
        #expect(catalog.problems.map(\.description).contains { $0.contains("plugin.yaml:3:10") && $0.contains("cannot find its program `./not-there`") })
        var registry = testRegistry(Recorder())
        let error = #expect(throws: PipelineError.self) { try catalog.register(into: &registry) }
        #expect(error?.description.contains("offers stage `emit`, which is built into seedpipe") == true)
        #expect(error?.diagnostics.count == 2, "\(String(describing: error))")
        #expect(registry.stage("ghost") == nil && registry.stage("working") == nil, "all or nothing")
    }

    /// A plugin whose program is missing keeps its name and kinds: a later plugin of the same
    /// name does not stand in for it.
    @Test func aBrokenPluginIsNotReplacedByALaterOne() throws {
        let pluginFolder = folder.url.appendingPathComponent("plugins/ghost")
        try FileManager.default.createDirectory(at: pluginFolder, withIntermediateDirectories: true)
        try "name: ghost\nversion: 2\ncommand: ./not-there\nstages:\n  ghost: { outputs: { a: text } }\n"
            .write(to: pluginFolder.appendingPathComponent("plugin.yaml"), atomically: true, encoding: .utf8)
        try maker.make("ghost", in: "elsewhere", version: "1.0.0", program: "exit 0")
        let catalog = PluginCatalog.discover(in: [.init(folder.url.appendingPathComponent("plugins"), origin: .project),
                                                  .init(folder.url.appendingPathComponent("elsewhere"), origin: .environment)])
        #expect(catalog.plugins.isEmpty)
        #expect(catalog.shadowed.map { "\($0.plugin.version) by \($0.by.version)" } == ["1.0.0 by 2"])
        var registry = testRegistry(Recorder())
        let problems = catalog.registerUsable(into: &registry)
        #expect(registry.stage("ghost") == nil)
        #expect(problems.count == 1 && problems[0].description.contains("cannot find its program `./not-there`"), "\(problems)")
    }

    /// The plugins that work are usable beside a broken one; the broken one's problems come back.
    @Test func workingPluginsStayUsableBesideBrokenOnes() throws {
        let pluginFolder = folder.url.appendingPathComponent("plugins/ghost")
        try FileManager.default.createDirectory(at: pluginFolder, withIntermediateDirectories: true)
        try "name: ghost\nversion: 1\ncommand: ./not-there\nstages:\n  ghost: { outputs: { a: text } }\n"
            .write(to: pluginFolder.appendingPathComponent("plugin.yaml"), atomically: true, encoding: .utf8)
        try maker.make("working", program: "exit 0")
        let catalog = PluginCatalog.discover(in: [.init(folder.url.appendingPathComponent("plugins"), origin: .project)])
        var registry = testRegistry(Recorder())
        let problems = catalog.registerUsable(into: &registry)
        #expect(registry.stage("working") != nil)
        #expect(registry.stage("ghost") == nil)
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.description.contains("plugin.yaml:3:10: error: plugin ghost: cannot find its program `./not-there`") == true,
                "\(problems)")
        #expect(problems.first?.formatted(as: "warning").contains("plugin.yaml:3:10: warning: plugin ghost") == true)
    }

    @Test func pluginStagesAreValidatedLikeBuiltInOnes() throws {
        try maker.make("shout", program: "exit 0", stage: """
            inputs: { words: text }
            outputs: { text: text }
            parameters: { times: { type: integer, default: 1, min: 1, max: 3 }, mode: { type: string, allowed: [loud, quiet] } }
            """)
        let error = #expect(throws: PipelineError.self) {
            try load("pipeline: p\nstages:\n  a:\n    uses: shout\n    with: { words: hi, times: 9, mode: angry, tmes: 2 }\n")
        }
        let text = error?.description ?? ""
        #expect(text.contains("times must be from 1 to 3"))
        #expect(text.contains("mode must be one of loud, quiet"))
        #expect(text.contains("did you mean `times`?"))
    }

    // MARK: The protocol

    @Test func aRequestAndItsAnswerMakeTheRoundTrip() async throws {
        // The plugin keeps its request, checks its input file, and answers with every kind of output.
        try maker.make("echo", program: #"""
            import json, os, sys
            request = json.load(sys.stdin)
            out = request["output_folder"]
            assert os.listdir(out) == [], "output folder not empty"
            picture = request["inputs"]["picture"]
            data = open(picture["path"], "rb").read()
            json.dump(request, open(os.path.join(out, "request.json"), "w"))
            open(os.path.join(out, "copy.png"), "wb").write(data[::-1])
            print(json.dumps({"type": "progress", "fraction": 0.5, "message": "halfway"}), flush=True)
            print(json.dumps({"type": "log", "level": "warning", "message": "careful"}), flush=True)
            print("a note for people", file=sys.stderr)
            print("")
            print(json.dumps({"type": "result", "outputs": {
                "picture": "copy.png", "words": request["inputs"]["words"].upper(), "count": len(data),
                "facts": {"cwd": os.getcwd(), "key": os.environ.get("SEGMIND_API_KEY"), "dir": os.environ["SEEDPIPE_PLUGIN_DIR"],
                          "protocol": os.environ["SEEDPIPE_PROTOCOL"]}}}))
            """#, stage: """
            inputs: { picture: image, words: text }
            outputs: { picture: image, words: text, count: number, facts: json, request: { type: file, required: false } }
            parameters: { size: { type: integer, default: 7 }, label: { type: string } }
            """, interpreter: "/usr/bin/env python3")
        let (events, continuation) = AsyncStream.makeStream(of: ExecutionEvent.self)
        let logs = LogBox()
        let report = try await run("""
            pipeline: p
            stages:
              img: { uses: make-image, with: { content: "pixels!" } }
              say: { uses: emit, with: { value: hello } }
              echo: { uses: echo, with: { picture: "${img.image}", words: "${say.text}", label: tag } }
            outputs: { picture: "${echo.picture}", words: "${echo.words}", count: "${echo.count}", facts: "${echo.facts}" }
            """, events: continuation, logs: logs)
        continuation.finish()
        var seen: [ExecutionEvent] = []
        for await event in events { seen.append(event) }

        #expect(report.outputs["words"] == .string("HELLO"))
        #expect(report.outputs["count"] == .number(7))
        let picture = try #require(report.outputs["picture"]?.artifact)
        let store = try storage().artifacts
        #expect(try Data(contentsOf: await store.verifiedLocation(of: picture)) == Data("!slexip".utf8))
        #expect(picture.type == .image && picture.fileExtension == "png")
        let facts = try #require(report.outputs["facts"]?.object)
        #expect(facts["key"] == .null)
        #expect(facts["protocol"] == .string("1"))
        #expect(facts["dir"]?.string?.hasSuffix("/plugins/echo") == true)
        #expect(seen.contains { if case .progress("echo", 0.5, "halfway") = $0 { true } else { false } })
        // Log lines and stderr reach the run's logger, and the event stream as the stage's log events.
        #expect(logs.lines.contains("warning careful"))
        #expect(logs.lines.contains("info a note for people"))
        let logged = seen.compactMap { event -> String? in
            if case .log(let stage, let level, let message) = event { "\(stage) \(level) \(message)" } else { nil }
        }
        #expect(logged.contains("echo warning careful") && logged.contains("echo info a note for people"), "\(logged)")
    }

    @Test func theRequestCarriesParametersInputsAndFolders() async throws {
        try maker.make("echo", program: "exit 0", stage: """
            inputs: { picture: image, words: text, extra: { type: "[image]", required: false } }
            outputs: { words: text }
            parameters: { size: { type: integer, default: 7 }, label: { type: string } }
            """)
        let pipeline = try load("""
            pipeline: p
            stages:
              img: { uses: make-image, with: { content: "pixels!" } }
              echo: { uses: echo, with: { picture: "${img.image}", words: hi } }
            """)
        let stage = try #require(pipeline.step("echo")?.stage as? PluginStage)
        let store = try storage().artifacts
        let artifact = try await store.put(data: Data("pixels!".utf8), type: .image, fileExtension: "png")
        let work = folder.url.appendingPathComponent("work")
        let data = try await stage.request(StageInvocation(name: "echo", values: ["picture": .artifact(artifact), "words": .string("hi"),
                                                                            "size": .number(7)]),
                                     store: store, work: work, outputFolder: work.appendingPathComponent("output"))
        let request = try JSONDecoder().decode(Value.self, from: data).object ?? [:]
        #expect(request["protocol"] == .number(1))
        #expect(request["kind"] == .string("echo"))
        #expect(request["stage"] == .string("echo"))
        #expect(request["parameters"] == .object(["size": .number(7)]))
        let picture = try #require(request["inputs"]?.object?["picture"]?.object)
        #expect(picture["path"]?.string == work.path + "/inputs/picture.png")
        #expect(picture["digest"] == .string(artifact.digest))
        #expect(picture["type"] == .string("image"))
        #expect(request["inputs"]?.object?["words"] == .string("hi"))
        #expect(request["inputs"]?.object?["extra"] == nil)
        #expect(request["output_folder"] == .string(work.path + "/output"))
        #expect(request["plugin"]?.object?["version"] == .string("1.0.0"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: picture["path"]!.string!)) == Data("pixels!".utf8))
    }

    /// A plugin's environment is an allow-list plus what its manifest asks for: no credential
    /// of seedpipe's (the API key, the team cache's authorization, the shared journal's URL with
    /// its password), nor anything else of the caller's it did not ask for.
    @Test func noCredentialIsEverHandedToAPlugin() {
        let base = ["PATH": "/bin", "HOME": "/home/u", "LC_ALL": "C.UTF-8", "SEGMIND_API_KEY": "sk-secret", "MY_SEGMIND_API_KEY": "x",
                    "SEEDPIPE_REMOTE_CACHE_AUTH": "builder:hunter2", "SEEDPIPE_SHARED_JOURNAL": "postgres://team:pw@db/films",
                    "SEEDPIPE_REMOTE_CACHE": "https://u:p@cache.example/c", "AWS_SECRET_ACCESS_KEY": "aws", "FONT_DIR": "/fonts",
                    "UNRELATED": "mine"]
        let environment = PluginEnvironment.build(from: base, asked: ["FONT_DIR", "SEEDPIPE_REMOTE_CACHE_AUTH"], plugin: folder.url)
        #expect(Set(environment.keys) == ["PATH", "HOME", "LC_ALL", "FONT_DIR", "SEEDPIPE_PROTOCOL", "SEEDPIPE_PLUGIN_DIR"], "\(environment)")
        #expect(environment["PATH"] == "/bin" && environment["FONT_DIR"] == "/fonts")
        #expect(environment["SEEDPIPE_PROTOCOL"] == "1")
        for secret in ["sk-secret", "hunter2", "pw@db", "u:p@", "aws"] {
            #expect(!environment.values.contains { $0.contains(secret) }, "\(secret) handed out")
        }
    }

    /// `env:` names what a plugin needs; a credential asked for is refused where it is written.
    @Test func aManifestAskingForACredentialIsRefusedWhereItAsks() throws {
        let manifest = try PluginManifest.parse("name: x\nversion: 1\ncommand: run\nenv: [FONT_DIR]\nstages:\n  x:\n    outputs: { a: text }\n",
                                                file: "plugin.yaml", folder: folder.url)
        #expect(manifest.environment == ["FONT_DIR"])
        let refused = #expect(throws: PipelineError.self) {
            try PluginManifest.parse("name: x\nversion: 1\ncommand: run\nenv: [FONT_DIR, SEGMIND_API_KEY, 9LIVES]\nstages:\n  x:\n    outputs: { a: text }\n",
                                     file: "plugin.yaml", folder: folder.url)
        }
        let message = refused?.description ?? ""
        #expect(message.contains("plugin.yaml:4:17") && message.contains("`SEGMIND_API_KEY`, a credential"), "\(message)")
        #expect(message.contains("plugin.yaml:4:34") && message.contains("`9LIVES` is not an environment variable name"), "\(message)")
    }

    /// The program itself sees the allow-list and nothing else of this process's environment
    /// (the names `env` prints; the shell adds PWD, SHLVL and _ of its own).
    @Test func aPluginProgramSeesOnlyTheAllowList() async throws {
        let dump = folder.url.appendingPathComponent("env.txt")
        try maker.make("snoop", program: "env > \(dump.path)\necho '{\"type\": \"result\", \"outputs\": {\"text\": \"ok\"}}'")
        _ = try await run("pipeline: p\nstages:\n  s: { uses: snoop }\n")
        let names = try String(contentsOf: dump, encoding: .utf8).split(separator: "\n").compactMap { $0.split(separator: "=").first.map(String.init) }
        let allowed = Set(PluginEnvironment.passedThrough + ["SEEDPIPE_PROTOCOL", "SEEDPIPE_PLUGIN_DIR", "PWD", "SHLVL", "_"])
        #expect(names.allSatisfy { allowed.contains($0) || $0.hasPrefix("LC_") }, "\(names)")
        #expect(names.contains("SEEDPIPE_PLUGIN_DIR") && names.contains("PATH"))
    }

    // MARK: Failures

    @Test(arguments: [
        ("echo 'about to crash' >&2; kill -SEGV $$", "crashed (killed by signal 11, SIGSEGV)"),
        ("echo 'disk on fire' >&2; echo '{\"type\":\"error\",\"message\":\"cannot read the film\"}'; exit 3",
         "exited with status 3: cannot read the film"),
        ("echo 'progress: 50%'", "is not a protocol message: «progress: 50%»"),
        ("echo '{\"type\":\"progress\",\"fraction\":0.5}'", "exited without a result"),
        ("echo x > ../escape.txt; echo '{\"type\":\"result\",\"outputs\":{\"file\":\"../escape.txt\"}}'", "is outside its output folder"),
        ("ln -s /etc/hostname output/link; echo '{\"type\":\"result\",\"outputs\":{\"file\":\"link\"}}'", "is outside its output folder"),
        ("echo '{\"type\":\"result\",\"outputs\":{\"file\":\"nothing.txt\"}}'", "names nothing.txt, which it did not write"),
        ("echo '{\"type\":\"result\",\"outputs\":{\"files\":\"a\"}}'", "names an output `files` its manifest does not declare"),
        ("echo '{\"type\":\"result\",\"outputs\":{}}'", "the result does not name output `file`"),
        ("echo '{\"type\":\"shout\"}'", "unknown type `shout`"),
    ])
    func aMisbehavingPluginFailsItsStageClearly(program: String, expected: String) async throws {
        try maker.make("bad", program: "cat >/dev/null\n" + program, stage: "outputs: { file: file }")
        let recorder = Recorder()
        let failed = try await run("""
            pipeline: p
            stages:
              fine: { uses: emit, with: { value: kept } }
              bad: { uses: bad }
            """, recorder: recorder, options: ExecutionOptions(keepGoing: true))
        let error = failed.failures["bad"]
        #expect((error?.rootCause as? PipelineError)?.code == .plugin, "a plugin failure, kept as such")
        let message = error?.message ?? "no failure"
        let report = try await run("pipeline: p\nstages:\n  fine: { uses: emit, with: { value: kept } }\n", recorder: recorder)
        #expect(report.stages["fine"]?.cached == true, "what was made beside the failure stays in the cache")
        #expect(message.contains("plugin bad 1.0.0") && message.contains(expected), "\(message)")
        if program.contains(">&2") {
            #expect(message.contains("its stderr ended with:"), "\(message)")
        }
    }

    @Test func aFailureReportsTheStageAndQuotesTheEndOfStderr() async throws {
        try maker.make("noisy", program: "cat >/dev/null\nfor i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do echo \"line $i\" >&2; done\nexit 1")
        let message = await failure { _ = try await run("pipeline: p\nstages:\n  n: { uses: noisy }\n") }
        #expect(message.contains("stage `n` failed: plugin noisy 1.0.0 exited with status 1"), "\(message)")
        #expect(message.contains("    line 15") && message.contains("    line 4") && !message.contains("line 3\n"), "\(message)")
    }

    @Test func aHangingPluginIsStoppedAtItsTimeout() async throws {
        let pidFile = folder.url.appendingPathComponent("sleepy.pid")
        try maker.make("sleepy", program: "echo $$ > \(pidFile.path)\necho 'going to sleep' >&2\nexec sleep 60000", timeout: 0.5)
        let message = await failure { _ = try await run("pipeline: p\nstages:\n  z: { uses: sleepy }\n") }
        #expect(message.contains("ran longer than its timeout of 0.5 s and was stopped"), "\(message)")
        #expect(message.contains("going to sleep"))
        // Stopped, not waited for: it would sleep 1000 minutes, and the suite's limit is 10.
        let pid = try #require(pid_t(try String(contentsOf: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(kill(pid, 0) != 0, "the plugin is gone")
    }

    @Test func cancellingARunStopsThePluginWithTermThenKill() async throws {
        // One plugin ignores SIGTERM (so only SIGKILL ends it), one does not.
        let marker = folder.url.appendingPathComponent("pids")
        try FileManager.default.createDirectory(at: marker, withIntermediateDirectories: true)
        try maker.make("stubborn", program: "trap '' TERM\necho $$ > \(marker.path)/stubborn\nwhile :; do sleep 0.1; done")
        try maker.make("polite", program: "echo $$ > \(marker.path)/polite\nexec sleep 60")
        let pipeline = try load("pipeline: p\nstages:\n  a: { uses: stubborn }\n  b: { uses: polite }\n")
        let storage = try storage()
        let task = Task { try await Executor(pipeline: pipeline, storage: storage).run() }
        func pid(_ name: String) -> pid_t? {
            (try? String(contentsOf: marker.appendingPathComponent(name), encoding: .utf8))
                .flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        for _ in 0..<4800 where pid("stubborn") == nil || pid("polite") == nil { try await Task.sleep(for: .milliseconds(50)) }
        let stubborn = try #require(pid("stubborn")), polite = try #require(pid("polite"))
        task.cancel()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        // Both are gone by the time the run returns: the polite one at SIGTERM, the stubborn one at SIGKILL.
        #expect(kill(stubborn, 0) != 0)
        #expect(kill(polite, 0) != 0)
    }

    // MARK: Upgrades

    @Test func aPluginNoStageUsesIsNeverRead() async throws {
        try maker.make("alpha", program: "cat >/dev/null; echo '{\"type\":\"result\",\"outputs\":{\"text\":\"a\"}}'")
        let storage = try storage()
        let without = try load("pipeline: p\nstages:\n  e: { uses: emit, with: { value: x } }\n")
        _ = await Planner.plan(without, storage: storage)
        _ = try await Executor(pipeline: without, storage: storage).run()
        #expect(storage.digests.hashCount == 0, "found and registered, never hashed")
        _ = await Planner.plan(try load("pipeline: p\nstages:\n  a: { uses: alpha }\n"), storage: storage)
        #expect(storage.digests.hashCount == 1, "hashed once its stage is planned")
    }

    @Test func upgradingAPluginRerunsItsStagesAndNothingElse() async throws {
        let answer = "cat >/dev/null; echo '{\"type\":\"result\",\"outputs\":{\"text\":\"%@\"}}'"
        try maker.make("alpha", program: answer.replacingOccurrences(of: "%@", with: "a1"))
        try maker.make("beta", program: answer.replacingOccurrences(of: "%@", with: "b1"))
        let yaml = "pipeline: p\nstages:\n  a: { uses: alpha }\n  b: { uses: beta }\n  e: { uses: emit, with: { value: x } }\n"
        let first = try await run(yaml)
        #expect(first.stages.values.allSatisfy { !$0.cached })

        // A new version number alone reruns alpha.
        try maker.make("alpha", version: "1.1.0", program: answer.replacingOccurrences(of: "%@", with: "a1"))
        let planned = await Planner.plan(try load(yaml), storage: try storage())
        #expect(planned.steps.first { $0.stage == "a" }?.reason?.contains("the stage changed (version 1.0.0+") == true)
        let second = try await run(yaml)
        #expect(second.stages["a"]?.cached == false)
        #expect(second.stages["b"]?.cached == true && second.stages["e"]?.cached == true)

        // So does a changed program under the same version.
        try maker.make("alpha", version: "1.1.0", program: answer.replacingOccurrences(of: "%@", with: "a2"))
        let third = try await run(yaml)
        #expect(third.stages["a"]?.cached == false)
        #expect(third.stages["a"]?.outputs["text"] == .string("a2"))
        #expect(third.stages["b"]?.cached == true && third.stages["e"]?.cached == true)
    }
}

/// Log lines a test can read ("level message").
final class LogBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var lines: [String] { lock.withLock { stored } }
    func add(_ line: String) { lock.withLock { stored.append(line) } }
}

struct CapturingLogHandler: LogHandler {
    let box: LogBox
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        box.add("\(event.level) \(event.message)")
    }
}
