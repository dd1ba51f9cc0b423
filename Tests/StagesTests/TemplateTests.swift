import Foundation
import MediaTestSupport
import Pipeline
import Testing

@Suite(.timeLimit(.minutes(10))) struct TemplateTests {
    static let yaml = """
        vars: { place: "a waterfall" }
        stages:
          prompts:
            uses: template
            with:
              template: "Shot {{index}} of {{count}}: {{place}}, {{beat}}."
              each: [{ beat: dawn }, { beat: noon }]
        outputs: { texts: "${prompts.texts}", second: "${prompts.texts[1]}" }
        """

    @Test func rendersOnePromptPerItemWithNumbering() async throws {
        let harness = try await StagesHarness()
        let report = try await harness.run(Self.yaml)
        #expect(report.outputs["texts"] == .list([.string("Shot 1 of 2: a waterfall, dawn."), .string("Shot 2 of 2: a waterfall, noon.")]))
        #expect(report.outputs["second"] == .string("Shot 2 of 2: a waterfall, noon."))
        // A var override changes the texts (vars are part of the key).
        let changed = try await harness.run(Self.yaml, overrides: ["place": "a glacier"])
        #expect(changed.outputs["second"] == .string("Shot 2 of 2: a glacier, noon."))
        await harness.stop()
    }

    @Test func unknownVariablesAreErrorsNotEmptyText() async throws {
        let harness = try await StagesHarness()
        let error = try #require(throws: PipelineError.self) {
            try harness.load(Self.yaml.replacingOccurrences(of: "{{beat}}", with: "{{beet}}"))
        }
        #expect(error.description.contains("{{beet}} is not a var or a field of every `each` item (did you mean {{beat}}?)"), "\(error)")
        #expect(error.diagnostics.first?.location?.line == 6, "at the template: key")
        await harness.stop()
    }

    @Test func anIndexPastTheEndIsAClearError() async throws {
        let harness = try await StagesHarness()
        let failure = try await #require(throws: (any Error).self) {
            try await harness.run(Self.yaml.replacingOccurrences(of: "texts[1]", with: "texts[5]"))
        }
        #expect("\(failure)".contains("has 2 items, so there is no item 5"), "\(failure)")
        await harness.stop()
    }
}
