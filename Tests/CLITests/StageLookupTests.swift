import Foundation
import Media
import MediaTestSupport
import Pipeline
import SeedpipeKit
import Testing

/// `seedpipe stages`, `seedpipe schema`, `seedpipe init`, and `make install`: a first pipeline
/// written without the README, an editor that completes it, a tool installed like any other.
@Suite(.timeLimit(.minutes(10))) struct StageLookupTests {
    /// The files the stages' examples name, made here.
    static func withExampleFiles(_ folder: TemporaryFolder) throws {
        try Fixtures.clip("clip.mp4", in: folder, SyntheticClip(width: 320, height: 180, duration: 2, tone: .init()))
        try Fixtures.picture(folder.file("frame.png"), red: 20, green: 60, blue: 120)
        try Fixtures.clip("tone.mp4", in: folder, SyntheticClip(width: 64, height: 64, duration: 3, tone: .init(frequency: 330)))
        // music.m4a: the tone's audio alone is not needed; an AAC track in an MP4 container reads as audio.
        try FileManager.default.copyItem(at: folder.file("tone.mp4"), to: folder.file("music.m4a"))
    }

    @Test func stagesListsEveryKindWithWhereItComesFrom() async throws {
        let folder = try ShippedPipelineTests().copy()
        let list = try await SeedpipeBinary.run(["stages"], in: folder)
        #expect(list.status == 0, "\(list.stderr)")
        for kind in ["concat", "thumbnail", "seedance.generate", "seedance.chain", "seedance.storyboard", "template"] {
            #expect(list.stdout.split(separator: "\n").contains { $0.hasPrefix(kind + " ") && $0.hasSuffix("[built-in]") }, "\(kind): \(list.stdout)")
        }
        #expect(list.stdout.contains("title-card") && list.stdout.contains("[plugin title-card 1.0.0"), "\(list.stdout)")
    }

    @Test func stagesDescribesABuiltinAPluginAndRefusesAnUnknownKind() async throws {
        let folder = try ShippedPipelineTests().copy()
        let thumbnail = try await SeedpipeBinary.run(["stages", "thumbnail"], in: folder)
        #expect(thumbnail.status == 0)
        for part in ["thumbnail (built-in)", "pool: cpu; cost: free", "inputs:", "outputs:", "parameters:",
                     "width          integer, 2 to 16384", "default 0", "uses: thumbnail"] {
            #expect(thumbnail.stdout.contains(part), "\(part): \(thumbnail.stdout)")
        }
        let generate = try await SeedpipeBinary.run(["stages", "seedance.generate"], in: folder)
        #expect(generate.stdout.contains("pool: seedance; cost: one generation a run") && generate.stdout.contains("not in the cache key"),
                "\(generate.stdout)")
        // The durations the API takes, as the validator takes them (not "4 to 15").
        #expect(generate.stdout.contains("4, 5, 6, 8, 10, 12, 15") && !generate.stdout.contains("4 to 15"), "\(generate.stdout)")
        let plugin = try await SeedpipeBinary.run(["stages", "title-card", "--json"], in: folder)
        let entry = try JSONDecoder().decode(StageCatalog.Entry.self, from: Data(plugin.stdout.utf8))
        #expect(entry.origin.hasPrefix("plugin title-card 1.0.0") && entry.parameters.contains { $0.name == "title" && $0.required })
        #expect(entry.parameters.first { $0.name == "width" }?.minimum == 64)
        let unknown = try await SeedpipeBinary.run(["stages", "thumbnial"], in: folder)
        #expect(unknown.status == 2 && unknown.stderr.contains("did you mean `thumbnail`?"), "\(unknown.stderr)")
    }

    /// Every kind's example, as `seedpipe stages KIND` prints it, passes `validate`.
    @Test func everyKindsExampleValidates() async throws {
        let folder = try ShippedPipelineTests().copy()
        try Self.withExampleFiles(folder)
        let listing = try await SeedpipeBinary.run(["stages", "--json"], in: folder)
        let entries = try JSONDecoder().decode([StageCatalog.Entry].self, from: Data(listing.stdout.utf8))
        #expect(entries.count >= 15)
        for entry in entries {
            let example = try #require(entry.example, "\(entry.kind) has an example")
            let text = try await SeedpipeBinary.run(["stages", entry.kind], in: folder).stdout
            let with = try #require(text.split(separator: "\n").last { $0.hasPrefix("    with: ") }, "\(entry.kind): \(text)")
            #expect(!example.isEmpty || entry.inputs.allSatisfy { !$0.required })
            let file = "example-\(entry.kind).yaml"
            try "pipeline: example-\(entry.kind)\nstages:\n  example:\n    uses: \(entry.kind)\n\(with)\n"
                .write(to: folder.file(file), atomically: true, encoding: .utf8)
            let validated = try await SeedpipeBinary.run(["validate", file], in: folder)
            #expect(validated.status == 0, "\(entry.kind): \(with)\n\(validated.stderr)")
        }
    }

    @Test func theCommittedSchemaIsCurrentAndTheShippedPipelinesPointAtIt() async throws {
        let repository = ShippedPipelineTests.repository
        let folder = try ShippedPipelineTests().copy()
        let made = try await SeedpipeBinary.run(["schema", "pipelines"], in: folder)
        #expect(made.status == 0)
        let committed = try String(contentsOf: repository.appendingPathComponent("pipelines/pipeline.schema.json"), encoding: .utf8)
        #expect(made.stdout == committed, "make schema writes pipelines/pipeline.schema.json again")
        for file in try FileManager.default.contentsOfDirectory(atPath: repository.appendingPathComponent("pipelines").path)
        where file.hasSuffix(".yaml") {
            let text = try String(contentsOf: repository.appendingPathComponent("pipelines/\(file)"), encoding: .utf8)
            #expect(text.hasPrefix("# yaml-language-server: $schema=pipeline.schema.json\n"), "\(file)")
        }
    }

    /// Python's jsonschema, the referee: every shipped pipeline is valid; an unknown key, a
    /// value outside an enum and a word where a number belongs are not; an expression is.
    @Test func jsonschemaAcceptsTheShippedPipelinesAndRejectsMistakes() async throws {
        guard let python = TimelineReferee.python else {
            #expect(TimelineReferee.configured == nil, "SEEDPIPE_OTIO_PYTHON=\(TimelineReferee.configured ?? "") is not there")
            print("skipped the jsonschema referee: not installed here (make test installs it)")
            return
        }
        let folder = try ShippedPipelineTests().copy()
        let cases = [
            "good-expression": "stages:\n  shot: { uses: seedance.generate, with: { prompt: hi, duration: \"${vars.n}\" } }\n",
            "bad-unknown-key": "stages:\n  film: { uses: concat, with: { clips: [a.mp4], transitoin: crossfade } }\n",
            "bad-enum": "stages:\n  film: { uses: concat, with: { clips: [a.mp4], transition: wipe } }\n",
            "bad-type": "stages:\n  shot: { uses: seedance.generate, with: { prompt: hi, duration: long } }\n",
            // The API's values, from the one definition the validator reads too.
            "bad-resolution": "stages:\n  shot: { uses: seedance.generate, with: { prompt: hi, resolution: 4k } }\n",
            "bad-duration": "stages:\n  shot: { uses: seedance.generate, with: { prompt: hi, duration: 7 } }\n",
        ]
        for (name, text) in cases { try text.write(to: folder.file("\(name).yaml"), atomically: true, encoding: .utf8) }
        let shipped = try FileManager.default.contentsOfDirectory(atPath: folder.file("pipelines").path).filter { $0.hasSuffix(".yaml") }
            .map { "pipelines/\($0)" }
        let script = """
            import json, sys, yaml, jsonschema
            schema = json.load(open(sys.argv[1]))
            jsonschema.Draft202012Validator.check_schema(schema)
            validator = jsonschema.Draft202012Validator(schema)
            for path in sys.argv[2:]:
                errors = list(validator.iter_errors(yaml.safe_load(open(path))))
                print(path, "valid" if not errors else "invalid: " + errors[0].message)
            """
        let arguments = ["-c", script, "pipelines/pipeline.schema.json"] + shipped + cases.keys.sorted().map { "\($0).yaml" }
        let outcome = try await Thread.detached { try ChildProcess.run(URL(fileURLWithPath: python), arguments, in: folder.url) }
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let verdicts = Dictionary(uniqueKeysWithValues: outcome.output.split(separator: "\n").map { line in
            (String(line.split(separator: " ")[0]), String(line.split(separator: " ", maxSplits: 1)[1]))
        })
        for file in shipped + ["good-expression.yaml"] { #expect(verdicts[file] == "valid", "\(file): \(verdicts[file] ?? "not read")") }
        #expect(verdicts["bad-unknown-key.yaml"]?.contains("'transitoin' was unexpected") == true, "\(verdicts)")
        #expect(verdicts["bad-enum.yaml"]?.contains("'wipe'") == true, "\(verdicts)")
        #expect(verdicts["bad-type.yaml"]?.contains("'long'") == true, "\(verdicts)")
        #expect(verdicts["bad-resolution.yaml"]?.hasPrefix("invalid") == true && verdicts["bad-resolution.yaml"]?.contains("'4k'") == true, "\(verdicts)")
        #expect(verdicts["bad-duration.yaml"]?.hasPrefix("invalid") == true && verdicts["bad-duration.yaml"]?.contains("7") == true, "\(verdicts)")
    }

    @Test(arguments: StarterPipeline.allCases.map(\.rawValue))
    func initWritesAStarterThatValidatesAndRunsOffline(_ template: String) async throws {
        let folder = TemporaryFolder("init")
        let file = "my-\(template).yaml"
        let made = try await SeedpipeBinary.run(["init", file, "--template", template], in: folder)
        #expect(made.status == 0, "\(made.stderr)")
        let written = try String(contentsOf: folder.file(file), encoding: .utf8)
        #expect(written.contains("pipeline: my-\(template)") && written.hasPrefix("# "))
        let validated = try await SeedpipeBinary.run(["validate", file], in: folder)
        #expect(validated.status == 0, "\(validated.stderr)")
        let run = try await SeedpipeBinary.run(["run", file, "--emulator-latency", "0.05"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.file("out/my-\(template)/film.mp4").path))
        #expect(!FileManager.default.fileExists(atPath: folder.file("my-\(template).picks.yaml").path), "no picks file before a pick")
        let again = try await SeedpipeBinary.run(["init", file, "--template", "chain"], in: folder)
        #expect(again.status == 2 && again.stderr.contains("never overwrites"), "\(again.stderr)")
        #expect(try String(contentsOf: folder.file(file), encoding: .utf8) == written)
    }

    /// `make install` into a temporary prefix, of the build the tests run (no release build to
    /// wait for; the install steps are the same): the installed binary runs and finds the shipped plugins, `man -l`
    /// renders its page, bash accepts its completion; `make uninstall` takes it all away.
    @Test func makeInstallPutsTheToolItsManualAndCompletionsInPlace() async throws {
        let prefix = TemporaryFolder("prefix")
        let repository = ShippedPipelineTests.repository
        let make = { @Sendable (target: String) throws -> ChildProcess.Outcome in
            try ChildProcess.run(URL(fileURLWithPath: "/usr/bin/make"),
                                 ["-s", target, "PREFIX=\(prefix.url.path)", "INSTALL_BIN=\(SeedpipeBinary.url.deletingLastPathComponent().path)"],
                                 in: repository)
        }
        let installed = try await Thread.detached { try make("install") }
        try #require(installed.status == 0, "\(installed.output)\(installed.stderr)")
        let binary = prefix.file("bin/seedpipe")
        let version = try await Thread.detached { try ChildProcess.run(binary, ["--version"]) }
        #expect(version.status == 0 && !version.output.isEmpty)
        let stages = try await Thread.detached { try ChildProcess.run(binary, ["stages"], in: prefix.url) }
        #expect(stages.output.contains("[plugin title-card"), "the installed plugins are found: \(stages.output)")
        let manual = prefix.file("share/man/man1/seedpipe.1")
        let rendered = try await Thread.detached {
            try ChildProcess.run(URL(fileURLWithPath: "/usr/bin/man"), ["-l", manual.path], environment: ["MANPAGER": "cat", "PATH": "/usr/bin:/bin"])
        }
        #expect(rendered.status == 0 && rendered.output.contains("seedpipe") && rendered.output.contains("stages"), "\(rendered.stderr)")
        let completion = prefix.file("share/bash-completion/completions/seedpipe")
        let checked = try await Thread.detached { try ChildProcess.run(URL(fileURLWithPath: "/bin/bash"), ["-n", completion.path]) }
        #expect(checked.status == 0, "\(checked.stderr)")
        #expect(try String(contentsOf: completion, encoding: .utf8).contains("seedpipe"))
        for file in ["share/zsh/site-functions/_seedpipe", "share/fish/vendor_completions.d/seedpipe.fish"] {
            #expect(FileManager.default.fileExists(atPath: prefix.file(file).path), "\(file)")
        }
        let removed = try await Thread.detached { try make("uninstall") }
        #expect(removed.status == 0)
        for file in ["bin/seedpipe", "share/man/man1/seedpipe.1", "share/bash-completion/completions/seedpipe", "share/seedpipe"] {
            #expect(!FileManager.default.fileExists(atPath: prefix.file(file).path), "\(file) removed")
        }
    }
}
