import Foundation
import MediaTestSupport
import Pipeline
import Testing

@Suite(.timeLimit(.minutes(10))) struct PipelineValidationTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        /// Each expected problem: `line:column` and a piece of the message.
        var expected: [(String, String)]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "unknown kind", yaml: """
            stages:
              a: { uses: emitt, with: { value: x } }
            """, expected: [("2:14", "uses unknown kind `emitt` (did you mean `emit`?)")]),
        Case(name: "unknown key", yaml: """
            stages:
              a:
                uses: emit
                with:
                  vlaue: x
            """, expected: [("5:7", "has no parameter `vlaue` (did you mean `value`?)"), ("3:11", "needs parameter `value`")]),
        Case(name: "unknown stage reference", yaml: """
            stages:
              a: { uses: emit, with: { value: x } }
              b: { uses: join, with: { texts: ["${aa.text}"] } }
            """, expected: [("3:36", "refers to unknown stage `aa` (did you mean `a`?)")]),
        Case(name: "unknown output", yaml: """
            stages:
              a: { uses: emit, with: { value: x } }
              b: { uses: join, with: { texts: ["${a.txt}"] } }
            """, expected: [("3:36", "has no output `txt` (did you mean `text`?)")]),
        Case(name: "type mismatch", yaml: """
            stages:
              a: { uses: emit, with: { value: x } }
              b: { uses: read, with: { image: "${a.text}" } }
            """, expected: [("3:35", "`image` takes image but ${a.text} is text")]),
        Case(name: "cycle", yaml: """
            stages:
              a: { uses: join, with: { texts: ["${c.text}"] } }
              b: { uses: join, with: { texts: ["${a.text}"] } }
              c: { uses: join, with: { texts: ["${b.text}"] } }
            """, expected: [("2:14", "the stages form a cycle: a → b → c → a")]),
        Case(name: "an output that names no stage's output", yaml: """
            stages:
              a: { uses: emit, with: { value: x } }
            outputs: { text: "{a.text}", also: "${a.text}" }
            """, expected: [("3:18", "output `text` names no stage's output (`{a.text}`), so the run would hand over nothing (write \"${a.text}\")")]),
        Case(name: "duplicate stage", yaml: """
            stages:
              a: { uses: emit, with: { value: x } }
              a: { uses: emit, with: { value: y } }
            """, expected: [("3:3", "duplicate `a`")]),
        Case(name: "stage rule", yaml: """
            stages:
              s:
                uses: checked
                with:
                  duration: 7
            """, expected: [("5:7", "duration must be one of 4, 5, 6, 8, 10, 12, 15 seconds (got 7)")]),
        Case(name: "allowed values", yaml: """
            stages:
              s: { uses: checked, with: { mode: medium } }
            """, expected: [("2:31", "mode must be one of fast, slow (got medium)")]),
        Case(name: "missing file", yaml: """
            stages:
              r: { uses: read, with: { image: assets/nope.png } }
            """, expected: [("2:28", "image `assets/nope.png`: no such file")]),
        Case(name: "top-level typo", yaml: """
            pipeline: p
            stagse: {}
            """, expected: [("2:1", "unknown key `stagse` (did you mean `stages`?)"), ("1:1", "the pipeline has no `stages:`")]),
        Case(name: "yaml syntax", yaml: """
            stages:
              a: { uses: emit, with: { value: x }
            """, expected: [("3:1", "YAML:")]),
        Case(name: "unknown var", yaml: """
            vars: { place: lake }
            stages:
              a: { uses: emit, with: { value: "at ${vars.plac}" } }
            """, expected: [("3:35", "unknown var `plac` in ${vars.plac} (did you mean `place`?)")]),
        Case(name: "everything at once", yaml: """
            stages:
              a: { uses: emitt, with: { value: x } }
              b: { uses: join, with: { texts: ["${zz.text}"] } }
              s: { uses: checked, with: { duration: 7 } }
            """, expected: [("2:14", "unknown kind"), ("3:36", "unknown stage `zz`"), ("4:31", "duration must be one of")]),
    ]

    @Test(arguments: cases)
    func reportsEveryProblemWithItsLocation(_ example: Case) throws {
        let folder = TemporaryFolder("validate")
        let file = folder.file("p.yaml")
        try example.yaml.write(to: file, atomically: true, encoding: .utf8)
        let registry = testRegistry(Recorder())
        let error = try #require(throws: PipelineError.self) {
            let graph = try PipelineFile.load(file, registry: registry)
            _ = try PipelineValidator.validate(graph, registry: registry)
        }
        #expect(error.diagnostics.count == example.expected.count, "\(error)")
        for (location, message) in example.expected {
            let match = error.diagnostics.first { "\($0.location.map { "\($0.line):\($0.column)" } ?? "")" == location && $0.description.contains(message) }
            #expect(match != nil, "expected \(location) \(message), got:\n\(error)")
        }
        #expect(error.description.contains(file.relativePath))
    }

    @Test func macrosExpandIntoVisibleStages() throws {
        let registry = testRegistry(Recorder())
        let graph = try PipelineFile.parse("""
            stages:
              words: { uses: repeat, with: { texts: [one, two, three] } }
              shout: { uses: join, with: { texts: ["${words.text}", "!"] } }
            outputs: { line: "${shout.text}" }
            """, file: "m.yaml", baseFolder: URL(fileURLWithPath: "/tmp"), registry: registry)
        #expect(graph.stages.map(\.name) == ["words-1", "words-2", "words-3", "words-all", "shout"])
        #expect(graph.stage("shout")?.dependencies == ["words-all"])
        #expect(graph.stages.filter { $0.expandedFrom == "words" }.count == 4)
        _ = try PipelineValidator.validate(graph, registry: registry)
    }
}
