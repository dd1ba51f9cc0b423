import Foundation
import Media
import MediaTestSupport
import Testing

/// A run where one stage fails delivers what the others made, and says what failed; small
/// commands keep their word (one pipeline's jobs, counts in the singular).
@Suite(.timeLimit(.minutes(10))) struct PartlyFailedRunTests {
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

    @Test func twoFilesWithOneNameDoNotShareACache() async throws {
        let folder = TemporaryFolder("names")
        let yaml = "pipeline: alpha\nstages:\n  say: { uses: template, with: { template: \"WORD\" } }\noutputs: { line: \"${say.text}\" }\n"
        try yaml.replacingOccurrences(of: "WORD", with: "one").write(to: folder.file("a.yaml"), atomically: true, encoding: .utf8)
        try yaml.replacingOccurrences(of: "WORD", with: "two").write(to: folder.file("b.yaml"), atomically: true, encoding: .utf8)
        let first = try await SeedpipeBinary.run(["run", "a.yaml"], in: folder)
        #expect(first.status == 0, "\(first.stderr)")
        for command in [["run", "b.yaml"], ["plan", "b.yaml"]] {
            let second = try await SeedpipeBinary.run(command, in: folder)
            #expect(second.status == 2, "\(command): \(second.stderr)")
            #expect(second.stderr.contains("`pipeline: alpha` already names") && second.stderr.contains("a.yaml")
                    && second.stderr.contains("--cache"), "\(second.stderr)")
        }
        #expect(try String(contentsOf: folder.file("out/alpha/run.json"), encoding: .utf8).contains("\"one\""), "a's outputs are untouched")
        // Its own cache, or a freed name (the owner moved away), and it runs.
        let own = try await SeedpipeBinary.run(["run", "b.yaml", "--cache", "other", "--out", "out/b"], in: folder)
        #expect(own.status == 0, "\(own.stderr)")
        try FileManager.default.moveItem(at: folder.file("a.yaml"), to: folder.file("a-old.yml.txt"))
        let after = try await SeedpipeBinary.run(["run", "b.yaml"], in: folder)
        #expect(after.status == 0, "a name whose file is gone can be taken: \(after.stderr)")
        let again = try await SeedpipeBinary.run(["run", "b.yaml"], in: folder)
        #expect(again.status == 0 && again.stderr.contains("cached"), "the owner reruns: \(again.stderr)")
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
        // Dates in ISO 8601, as `log --json` and run.json write them.
        let json = try await SeedpipeBinary.run(["jobs", "alpha.yaml", "--json"], in: folder)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        let created = try #require(entries.first?["createdAt"] as? String, "\(json.stdout)")
        #expect(ISO8601DateFormatter().date(from: created) != nil, "\(created)")

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
@Suite(.timeLimit(.minutes(10))) struct CheckedBeforeRunningTests {
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

    /// An installed seedpipe (bin/seedpipe, share/seedpipe/plugins) finds its shipped plugins
    /// with no plugins/ folder near and no SEEDPIPE_PLUGIN_PATH.
    @Test func anInstalledSeedpipeFindsItsShippedPlugins() async throws {
        let prefix = TemporaryFolder("prefix")
        for folder in ["bin", "share/seedpipe"] {
            try FileManager.default.createDirectory(at: prefix.file(folder), withIntermediateDirectories: true)
        }
        // A hard link where it can be (the debug binary is large), else a copy.
        do { try FileManager.default.linkItem(at: SeedpipeBinary.url, to: prefix.file("bin/seedpipe")) }
        catch { try FileManager.default.copyItem(at: SeedpipeBinary.url, to: prefix.file("bin/seedpipe")) }
        try FileManager.default.copyItem(at: ShippedPipelineTests.repository.appendingPathComponent("plugins"),
                                         to: prefix.file("share/seedpipe/plugins"))
        let work = TemporaryFolder("installed")
        for name in ["storyboard.yaml", "assets"] {
            try FileManager.default.copyItem(at: ShippedPipelineTests.repository.appendingPathComponent("pipelines/\(name)"),
                                             to: work.file(name))
        }
        var environment = SeedpipeBinary.offline
        environment.removeValue(forKey: "SEEDPIPE_PLUGIN_PATH")
        let installed = prefix.file("bin/seedpipe")
        let validate = try await SeedpipeBinary.run(["validate", "storyboard.yaml"], in: work, environment: environment,
                                                    executable: installed)
        #expect(validate.status == 0, "title-card comes from share/seedpipe/plugins: \(validate.stderr)")
        let list = try await SeedpipeBinary.run(["plugins", "ls"], in: work, environment: environment, executable: installed)
        #expect(list.stdout.contains("title-card") && list.stdout.contains("shipped with seedpipe"), "\(list.stdout)")
        // The development binary has no share/ beside it: the kind is unknown there.
        let bare = try await SeedpipeBinary.run(["validate", "storyboard.yaml"], in: work, environment: environment)
        #expect(bare.status == 2 && bare.stderr.contains("title-card"), "\(bare.stderr)")
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
/// Every example of every command runs one after another: on a loaded machine that takes long,
/// so the limit is one only a hang reaches.
@Suite(.timeLimit(.minutes(40))) struct EveryCommandTests {
    static let commands: [[String]] = [
        ["probe"], ["thumbnail"], ["last-frame"], ["audio-check"], ["run"], ["takes"], ["pick"], ["reroll"], ["studio"],
        ["validate"], ["plan"], ["graph"], ["export"], ["jobs"], ["budget", "show"], ["budget", "set"], ["budget", "clear"],
        ["cache", "ls"], ["cache", "verify"], ["cache", "gc"],
        ["concat"], ["soundtrack"], ["synth"], ["generate"], ["serve"], ["plugins", "ls"], ["plugins", "check"],
        ["stages"], ["schema"], ["init"], ["log"],
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
    /// The example lines of a help text: `  seedpipe …` (a trailing ` \\` continues it on the next
    /// line), cut before a pipe or a `#` comment, as words (a quoted phrase kept whole).
    static func examples(in help: String) -> [[String]] {
        var joined: [String] = []
        var pending: String?
        for raw in help.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            let text = pending.map { $0 + " " + line } ?? line
            pending = nil
            guard text.hasPrefix("seedpipe ") else { continue }
            if text.hasSuffix(" \\") { pending = String(text.dropLast(2)); continue }
            joined.append(text)
        }
        return joined.map { example in
            let command = example.components(separatedBy: " | ")[0].components(separatedBy: "  #")[0]
            // As a shell splits it: spaces separate words, double quotes group and go.
            var words: [String] = []
            var word: String?
            var quoted = false
            for character in command.dropFirst("seedpipe ".count) {
                if character == "\"" { quoted.toggle(); word = word ?? "" }
                else if character == " " && !quoted { if let done = word { words.append(done) }; word = nil }
                else { word = (word ?? "") + String(character) }
            }
            if let word { words.append(word) }
            return words
        }
    }

    /// The examples of `seedpipe --help`, then of every command's help, run as written from the
    /// repository (a copy of it), in order: media commands after `synth` has made their clip,
    /// pipeline commands after `run`. The two servers are only checked for the files they name.
    @Test func everyExampleRunsAsWrittenAndEveryLineFits() async throws {
        let folder = TemporaryFolder("examples")
        for name in ["pipelines", "plugins"] {
            try FileManager.default.copyItem(at: ShippedPipelineTests.repository.appendingPathComponent(name), to: folder.file(name))
        }
        try? FileManager.default.removeItem(at: folder.file("pipelines/.seedpipe"))
        let order: [[String]] = [[], ["synth"], ["probe"], ["thumbnail"], ["last-frame"], ["audio-check"], ["concat"], ["soundtrack"],
                                 ["generate"], ["validate"], ["plan"], ["graph"], ["run"], ["export"], ["takes"], ["pick"], ["reroll"],
                                 ["jobs"], ["log"], ["budget", "set"], ["budget", "show"], ["budget", "clear"],
                                 ["cache", "ls"], ["cache", "verify"], ["cache", "gc"], ["plugins", "ls"],
                                 ["plugins", "check"], ["stages"], ["schema"], ["init"], ["studio"], ["serve"]]
        #expect(Set(order.dropFirst()) == Set(Self.commands), "every command's examples are run")
        var wide = SeedpipeBinary.offline
        wide["COLUMNS"] = "300"
        // The team's commands name their journal through the environment, as a team would set it.
        let database = TestPostgres.shouldRun ? try await TestPostgres.start() : nil
        var team = SeedpipeBinary.offline
        team["SEEDPIPE_SHARED_JOURNAL"] = database?.url()
        defer { database?.stop() }
        for command in order {
            if command.first == "budget" && database == nil { continue }
            let name = (["seedpipe"] + command).joined(separator: " ")
            let help = try await SeedpipeBinary.run(command + ["--help"], in: folder, environment: wide).stdout
            // Unwrapped, no discussion line is wider than a terminal: on one, none breaks mid-example.
            for line in help.components(separatedBy: "USAGE:")[0].split(separator: "\n").dropFirst() {
                #expect(line.count <= 80, "\(name) --help: \(line)")
            }
            let examples = Self.examples(in: help)
            #expect(!examples.isEmpty, "\(name) has examples")
            for words in examples {
                let written = "seedpipe " + words.joined(separator: " ")
                if ["studio", "serve"].contains(words.first) {
                    for file in words where file.hasSuffix(".yaml") {
                        #expect(FileManager.default.fileExists(atPath: folder.file(file).path), "\(written)")
                    }
                    continue
                }
                let fast = ["run", "reroll"].contains(words.first) ? ["--emulator-latency", "0.05"] : []
                let outcome = try await SeedpipeBinary.run(words + fast, in: folder, environment: words.first == "budget" ? team : SeedpipeBinary.offline)
                #expect(outcome.status == 0 && !outcome.signaled, "\(written): \(outcome.stderr)")
            }
        }
    }
}
