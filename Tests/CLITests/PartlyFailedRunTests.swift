import Foundation
import Media
import MediaTestSupport
import Testing

/// A run where one stage fails delivers what the others made, and says what failed; small
/// commands keep their word (one pipeline's jobs, counts in the singular).
@Suite struct PartlyFailedRunTests {
    static let pipeline = """
        pipeline: partly
        stages:
          early: { uses: thumbnail, with: { video: tone.mp4, at: 1 } }
          late: { uses: thumbnail, with: { video: tone.mp4, at: 60 } }
        outputs: { early: "${early.image}", late: "${late.image}" }
        """

    func folder() throws -> TemporaryFolder {
        let folder = TemporaryFolder("partly")
        _ = try Fixtures.clip("tone.mp4", in: folder, SyntheticClip(duration: 2))
        try Self.pipeline.write(to: folder.file("partly.yaml"), atomically: true, encoding: .utf8)
        return folder
    }

    @Test func keepGoingDeliversEveryOutputWhoseStageSucceeded() async throws {
        let folder = try folder()
        let run = try await SeedpipeBinary.run(["run", "partly.yaml", "--keep-going", "--out", "out"], in: folder)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.file("out/early.jpg").path), "what was made is delivered")
        #expect(!FileManager.default.fileExists(atPath: folder.file("out/late.jpg").path))
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: folder.file("out/run.json"))) as? [String: Any])
        #expect((summary["outputs"] as? [String: Any])?.keys.sorted() == ["early"], "\(summary["outputs"] ?? "")")
        #expect((summary["files"] as? [String: [String]])?["early"] == ["early.jpg"])
        let lines = run.stderr.split(separator: "\n")
        #expect(!lines.contains { $0.hasPrefix("done") }, "\(run.stderr)")
        #expect(lines.contains { $0.hasPrefix("finished in") && $0.contains("1 failed (late)") && $0.contains("1 of 2 outputs") },
                "\(run.stderr)")
        #expect(lines.last?.hasPrefix("error: stage `late` failed") == true, "the last line says what failed: \(run.stderr)")
    }

    @Test func aStageErrorNamesTheInputNotTheCache() async throws {
        let folder = try folder()
        let run = try await SeedpipeBinary.run(["run", "partly.yaml", "--out", "out"], in: folder)
        #expect(run.status == 2)
        #expect(run.stderr.contains("stage `late` failed: `video` (tone.mp4): time 60 s is past the end (the video lasts 2 s)"), "\(run.stderr)")
        #expect(!run.stderr.contains(".seedpipe/objects") && !run.stderr.contains("objects/"), "\(run.stderr)")
    }

    @Test func jobsOfAPipelineListOnlyItsGenerations() async throws {
        let folder = TemporaryFolder("jobs")
        for name in ["alpha", "beta"] {
            try "pipeline: \(name)\nstages:\n  shot: { uses: seedance.generate, with: { prompt: \"a \(name) lake\", duration: 4, resolution: 480p } }\noutputs: { clip: \"${shot.video}\" }\n"
                .write(to: folder.file("\(name).yaml"), atomically: true, encoding: .utf8)
            let run = try await SeedpipeBinary.run(["run", "\(name).yaml", "--emulator-latency", "0.05"], in: folder)
            try #require(run.status == 0, "\(run.stderr)")
        }
        let alpha = try await SeedpipeBinary.run(["jobs", "alpha.yaml"], in: folder)
        #expect(alpha.stdout.contains("alpha/shot") && !alpha.stdout.contains("beta/"), "\(alpha.stdout)")
        let all = try await SeedpipeBinary.run(["jobs"], in: folder)
        #expect(all.stdout.contains("alpha/shot") && all.stdout.contains("beta/shot"), "every pipeline in the cache: \(all.stdout)")

        // One of each is said in the singular.
        let validate = try await SeedpipeBinary.run(["validate", "alpha.yaml"], in: folder)
        #expect(validate.stdout.contains("alpha.yaml: ok (1 stage, 1 generation)"), "\(validate.stdout)")
        let ls = try await SeedpipeBinary.run(["cache", "ls", "alpha.yaml"], in: folder)
        #expect(ls.stdout.contains("2 actions (0 paid generations, 2 emulated); 2 journal entries"), "\(ls.stdout)")
        let again = try await SeedpipeBinary.run(["run", "alpha.yaml"], in: folder)
        #expect(again.stderr.contains(": 1 stage, 1 from cache"), "\(again.stderr)")
    }
}

/// Mistakes caught by `validate`, before anything runs or is journaled.
@Suite struct CheckedBeforeRunningTests {
    @Test func aListWhereOneValueIsExpectedIsAnErrorAtItsPlace() async throws {
        let folder = TemporaryFolder("list-prompt")
        try """
            pipeline: listed
            stages:
              prompts:
                uses: template
                with: { template: "Shot {{index}}: {{beat}}", each: [{ beat: dawn }, { beat: dusk }] }
              shot: { uses: seedance.generate, with: { prompt: "${prompts.texts}", duration: 4 } }
            """.write(to: folder.file("listed.yaml"), atomically: true, encoding: .utf8)
        let validate = try await SeedpipeBinary.run(["validate", "listed.yaml"], in: folder)
        #expect(validate.status == 2, "\(validate.stdout)\(validate.stderr)")
        let lines = validate.stderr.split(separator: "\n").filter { $0.contains("error:") }
        #expect(lines.count == 1, "one problem, once: \(validate.stderr)")
        #expect(lines.first?.contains("listed.yaml:6:") == true
                && lines.first?.contains("stage `shot`: `prompt` takes a string, but ${prompts.texts} is a list ([text])") == true,
                "\(validate.stderr)")
        #expect(validate.stderr.contains("${prompts.texts[0]}") && validate.stderr.contains("seedance.chain"), "\(validate.stderr)")
        // A run refuses it before anything is journaled.
        let run = try await SeedpipeBinary.run(["run", "listed.yaml"], in: folder)
        #expect(run.status == 2, "\(run.stderr)")
        let jobs = try await SeedpipeBinary.run(["jobs", "listed.yaml"], in: folder)
        #expect(jobs.stdout.contains("no journaled generations"), "no intent left behind: \(jobs.stdout)")
    }
}

extension CheckedBeforeRunningTests {
    @Test func aBadDefaultIsReportedOnceAtItsOwnLine() async throws {
        let folder = TemporaryFolder("bad-default")
        try """
            pipeline: defaulted
            defaults:
              seedance: { resolution: 480p, duration: 7 }
            stages:
              a: { uses: seedance.generate, with: { prompt: "a lake" } }
              b: { uses: seedance.generate, with: { prompt: "a hill" } }
              c: { uses: seedance.generate, with: { prompt: "a sea", duration: 4 } }
            """.write(to: folder.file("defaulted.yaml"), atomically: true, encoding: .utf8)
        let validate = try await SeedpipeBinary.run(["validate", "defaulted.yaml"], in: folder)
        #expect(validate.status == 2, "\(validate.stderr)")
        let errors = validate.stderr.split(separator: "\n").filter { $0.contains("error:") }
        #expect(errors.count == 1, "once, not at every stage that inherits it: \(validate.stderr)")
        #expect(errors.first?.hasPrefix("defaulted.yaml:3:") == true && errors.first?.contains("defaults.seedance: duration") == true,
                "\(validate.stderr)")
    }

    @Test func anUnknownKindSaysWherePluginsAreLookedFor() async throws {
        let folder = TemporaryFolder("unknown-kind")
        try "pipeline: effects\nstages:\n  glow: { uses: neon-glow-effect, with: { video: clip.mp4 } }\n"
            .write(to: folder.file("effects.yaml"), atomically: true, encoding: .utf8)
        let validate = try await SeedpipeBinary.run(["validate", "effects.yaml"], in: folder)
        #expect(validate.status == 2, "\(validate.stderr)")
        #expect(validate.stderr.contains("effects.yaml:3:") && validate.stderr.contains("uses unknown kind `neon-glow-effect`"), "\(validate.stderr)")
        #expect(validate.stderr.contains("plugins are looked for in") && validate.stderr.contains("(beside the pipeline)")
                && validate.stderr.contains("SEEDPIPE_PLUGIN_PATH") && validate.stderr.contains("seedpipe plugins ls --pipeline effects.yaml"),
                "\(validate.stderr)")
    }
}

/// Every command keeps the README's word: `--verbose`/`-v`, `--quiet`/`-q`, and an example in its help.
@Suite struct EveryCommandTests {
    static let commands: [[String]] = [
        ["probe"], ["thumbnail"], ["last-frame"], ["audio-check"], ["run"], ["takes"], ["pick"], ["reroll"], ["studio"],
        ["validate"], ["plan"], ["graph"], ["export"], ["jobs"], ["cache", "ls"], ["cache", "verify"], ["cache", "gc"],
        ["concat"], ["soundtrack"], ["synth"], ["generate"], ["serve"], ["plugins", "ls"], ["plugins", "check"],
    ]

    @Test(arguments: commands) func takesVerboseAndQuietAndShowsAnExample(_ command: [String]) async throws {
        let folder = TemporaryFolder("help")
        let help = try await SeedpipeBinary.run(command + ["--help"], in: folder)
        #expect(help.status == 0, "\(command)")
        #expect(help.stdout.contains("-v, --verbose") && help.stdout.contains("-q, --quiet"), "\(command): \(help.stdout)")
        #expect(help.stdout.contains("seedpipe \(command.joined(separator: " ")) "), "\(command) has an example: \(help.stdout)")
    }

    @Test func quietLeavesTheResultAndTheErrors() async throws {
        let folder = TemporaryFolder("quiet")
        try "pipeline: q\nstages:\n  say: { uses: template, with: { template: hello } }\noutputs: { line: \"${say.text}\" }\n"
            .write(to: folder.file("q.yaml"), atomically: true, encoding: .utf8)
        let run = try await SeedpipeBinary.run(["run", "q.yaml", "--quiet"], in: folder)
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
        let loud = try await SeedpipeBinary.run(["run", "q.yaml"], in: folder)
        #expect(loud.stderr.contains("plan:") && loud.stderr.contains("done in"), "\(loud.stderr)")
        let bad = try await SeedpipeBinary.run(["run", "missing.yaml", "--quiet"], in: folder)
        #expect(bad.status == 2 && bad.stderr.contains("error:"), "errors stay: \(bad.stderr)")
        // --cpu-jobs says its default once, in words.
        let help = try await SeedpipeBinary.run(["run", "--help"], in: folder)
        let cpu = (help.stdout.components(separatedBy: "--cpu-jobs").dropFirst().first?.components(separatedBy: "\n  --").first ?? "")
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(cpu.contains("default: the core count") && !cpu.contains("(default: \(ProcessInfo.processInfo.activeProcessorCount))"),
                "\(cpu)")
        let both = try await SeedpipeBinary.run(["run", "q.yaml", "--quiet", "--verbose"], in: folder)
        #expect(both.status != 0 && both.stderr.contains("cannot go together"), "\(both.stderr)")
    }
}

extension EveryCommandTests {
    /// The examples of `seedpipe --help` run as written from the repository (a copy of it), in order.
    @Test func theTopLevelExamplesRunAsWritten() async throws {
        let folder = TemporaryFolder("examples")
        for name in ["pipelines", "plugins"] {
            try FileManager.default.copyItem(at: ShippedPipelineTests.repository.appendingPathComponent(name), to: folder.file(name))
        }
        try? FileManager.default.removeItem(at: folder.file("pipelines/.seedpipe"))
        let help = try await SeedpipeBinary.run(["--help"], in: folder)
        let examples = help.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("seedpipe ") && !$0.hasPrefix("seedpipe serve") }
        #expect(examples.count >= 15, "\(help.stdout)")
        for example in examples {
            // Words, with one quoted phrase (the generate prompt) kept whole.
            var words: [String] = []
            for (index, part) in example.dropFirst("seedpipe ".count).components(separatedBy: "\"").enumerated() {
                words += index % 2 == 1 ? [part] : part.split(separator: " ").map(String.init)
            }
            let outcome = try await SeedpipeBinary.run(words + (words.first == "run" || words.first == "reroll" ? ["--emulator-latency", "0.05"] : []),
                                                       in: folder)
            #expect(outcome.status == 0 && !outcome.signaled, "\(example): \(outcome.stderr)")
        }
    }
}
