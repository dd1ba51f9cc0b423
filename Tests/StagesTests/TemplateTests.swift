import Foundation
import MediaTestSupport
import Mustache
import Pipeline
@testable import Stages
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

    /// Mustache sees only the part of a text with its tags when every tag is a plain
    /// interpolation; what it renders must be what Mustache renders from the whole text. The
    /// cases with sections, comments, partials or delimiter changes (which can remove their
    /// lines' whitespace) go to Mustache whole.
    @Test(arguments: [
        "{{word}} 7 a long text before, with { braces } and }} and a {{",
        "before {{word}} middle {{{word}}} and {{& word}} after\nnext line",
        "  {{ word }}  ",
        "no tags at all, only {braces}",
        "{{#list}}\n  {{.}}\n{{/list}}\nafter the section",
        "start\n{{! a comment on its own line }}\nend {{word}}",
        "{{=<% %>=}} <% word %> and {{word}}",
        "{{^missing}}none{{/missing}} {{word}} tail",
        "<&> {{word}} and {{{html}}} then {{html}}",
    ])
    func onlyTheTaggedPartGoesToMustacheAndRendersTheSame(text: String) throws {
        let scope: [String: Any] = ["word": "seed", "list": ["a", "b"], "html": "<b>&</b>"]
        let whole = TemplateStage.trimmed(try MustacheTemplate(string: text).render(scope))
        let (head, tags, tail) = TemplateStage.tagged(text)
        #expect(head + tags + tail == text, "a cut, nothing lost")
        #expect(TemplateStage.trimmed(head + (try MustacheTemplate(string: tags).render(scope)) + tail) == whole)
        if text.contains("{{#") || text.contains("{{!") || text.contains("{{=") || text.contains("{{^") {
            #expect(tags == text, "a text with a standalone-capable tag goes whole")
        }
    }

    @Test func anUnclosedTagIsStillMustachesError() throws {
        #expect(TemplateStage().check(["template": .string("{{word} and more")]).first?.hasPrefix("template: is not valid Mustache") == true)
        #expect(TemplateStage.tagged("{{word} and more").tags == "{{word} and more")
    }
}
