import Foundation
import Mustache
import Pipeline

/// `template`: Mustache text from the pipeline's vars. With `each:` it renders once per
/// item (the item's fields, `index` from 1 and `count` added), giving `texts`; a variable
/// that is neither a var nor a field is an error, not an empty string.
public struct TemplateStage: Stage {
    public let kind = "template"
    public init() {}
    public var documentation: StageDocumentation {
        StageDocumentation("Mustache text from the pipeline's vars, once, or once per item of `each` (prompts for a chain)",
                           outputs: ["text": "the text (with each: the first)", "texts": "with each: one text per item"],
                           parameters: ["template": "the Mustache template ({{place}}; with each: the item's fields, {{index}} from 1, {{count}})",
                                        "each": "a list of mappings: one text per item",
                                        "vars": "more values for the template, beside the pipeline's vars"],
                           example: ["template": .string("Shot {{index}}: a harbour {{beat}}"),
                                     "each": .list([.object(["beat": .string("at dawn")]), .object(["beat": .string("at dusk")])])])
    }


    public var signature: StageSignature {
        StageSignature(outputs: [Port("text", .text), Port("texts", .list(.text))],
                       parameters: [ParameterSpec("template", .string, required: true), ParameterSpec("each", .list),
                                    ParameterSpec("vars", .object)])
    }

    public func check(_ parameters: [String: Value]) -> [String] {
        guard let text = parameters["template"]?.string else { return [] }
        if let items = parameters["each"]?.list, !items.allSatisfy({ $0.object != nil }) {
            return ["each: must be a list of mappings, one per text"]
        }
        // Text without a tag has nothing more to check (a prompt another stage filled in, say).
        guard Self.has("{{", in: text) else { return [] }
        // Only the part with the tags needs Mustache (see ``tagged(_:)``).
        let tags = Self.tagged(text).tags
        do {
            _ = try MustacheTemplate(string: tags)
        } catch {
            return ["template: is not valid Mustache (\(error))"]
        }
        let vars = Set((parameters["vars"]?.object ?? [:]).keys)
        var known = vars.union(["index", "count"])
        if let items = parameters["each"]?.list {
            // A name counts when every item has it (or it is a var).
            let fields = items.compactMap(\.object).map { Set($0.keys) }
            known.formUnion(fields.dropFirst().reduce(fields.first ?? []) { $0.intersection($1) })
        } else if parameters["each"] == nil {
            known = vars
        }
        let unknown = Self.variables(in: tags).filter { !known.contains($0) && $0 != "cast" }
        return unknown.map { name in
            "template: {{\(name)}} is not a var\(parameters["each"] != nil ? " or a field of every `each` item" : "")"
                + (closest(to: name, in: known).map { " (did you mean {{\($0)}}?)" } ?? "")
        }
    }

    public func run(_ invocation: StageInvocation, context: StageContext) async throws -> [String: Value] {
        try render(invocation)
    }

    /// Rendering is pure: `plan` sees the texts without a cached run (after `cache gc`, say).
    public func predict(_ invocation: StageInvocation) -> [String: Value]? { try? render(invocation) }

    func render(_ invocation: StageInvocation) throws -> [String: Value] {
        // `{{cast.hero}}` is the generation's to fill in (its citation differs per shot): kept as written.
        let text = invocation.text("template")
        let casting = Self.has("{{cast.", in: text)
        let source = casting ? text.replacingOccurrences(of: "{{cast.", with: Self.castMark) : text
        func restored(_ rendered: String) -> String { casting ? rendered.replacingOccurrences(of: Self.castMark, with: "{{cast.") : rendered }
        // Text without a tag renders as itself (a prompt whose ${…} the executor already filled in).
        if invocation["each"] == nil, !Self.has("{{", in: source) {
            let text = Value.string(restored(Self.trimmed(source)))
            return ["texts": .list([text]), "text": text]
        }
        let (head, tags, tail) = Self.tagged(source)
        let template = try MustacheTemplate(string: tags)
        let vars = (invocation["vars"]?.object ?? [:]).mapValues(Self.mustache)
        let items = invocation["each"]?.list?.compactMap(\.object) ?? [[:]]
        let texts: [Value] = items.enumerated().map { index, item in
            var scope = vars
            for (key, value) in item { scope[key] = Self.mustache(value) }
            if invocation["each"] != nil {
                scope["index"] = index + 1
                scope["count"] = items.count
            }
            return .string(restored(Self.trimmed(head + template.render(scope) + tail)))
        }
        return ["texts": .list(texts), "text": .string(texts.map(\.text).joined(separator: "\n\n"))]
    }

    /// The text cut into the literal text before its first tag, the part from its first tag
    /// to the end of its last, and the literal text after it; only the middle needs Mustache.
    /// A template that reads the text before it (`"{{word}} ${shot.text}"`) would otherwise
    /// have Mustache parse every earlier text again, at each stage of a chain: the cost grew
    /// with the square of its length. Cut only when every tag is a plain interpolation
    /// (`{{name}}`, `{{{name}}}`, `{{& name}}`): those render the text around them verbatim.
    /// Sections, comments, partials and delimiter changes can remove the whitespace of their
    /// lines ("standalone" tags), so a text with any of them goes to Mustache whole.
    static func tagged(_ text: String) -> (head: String, tags: String, tail: String) {
        var bytes = text
        let cut: (Int, Int)? = bytes.withUTF8 { utf8 -> (Int, Int)? in
            let open = UInt8(ascii: "{"), close = UInt8(ascii: "}")
            var first: Int?, end = 0, index = 0
            while index + 1 < utf8.count {
                guard utf8[index] == open, utf8[index + 1] == open else { index += 1; continue }
                // A tag: its sigil, then its end.
                var body = index + 2
                while body < utf8.count, utf8[body] == open || utf8[body] == UInt8(ascii: " ") { body += 1 }
                if body < utf8.count, "#^/!>=<$".utf8.contains(utf8[body]) { return nil }
                var closing = body
                while closing + 1 < utf8.count, !(utf8[closing] == close && utf8[closing + 1] == close) { closing += 1 }
                guard closing + 1 < utf8.count else { return nil }  // unclosed: Mustache says so
                closing += 2
                while closing < utf8.count, utf8[closing] == close { closing += 1 }
                if first == nil { first = index }
                end = closing
                index = closing
            }
            return first.map { ($0, end) }
        }
        guard let (start, end) = cut else { return ("", text, "") }
        let utf8 = text.utf8
        let from = utf8.index(utf8.startIndex, offsetBy: start), to = utf8.index(utf8.startIndex, offsetBy: end)
        return (String(text[..<from]), String(text[from..<to]), String(text[to...]))
    }

    /// Stands in for `{{cast.` while Mustache renders (a private-use character).
    static let castMark = "\u{E000}cast."

    /// Whether `needle` occurs in `text`, searched as UTF-8 (Foundation's `contains` goes
    /// through NSString and was most of a 1,000-stage chain's validation).
    static func has(_ needle: String, in text: String) -> Bool {
        var text = text, needle = needle
        return text.withUTF8 { haystack in
            needle.withUTF8 { pattern in
                guard !pattern.isEmpty else { return true }
                guard haystack.count >= pattern.count else { return false }
                let first = pattern[0]
                var index = 0
                while index <= haystack.count - pattern.count {
                    if haystack[index] == first {
                        var match = 1
                        while match < pattern.count && haystack[index + match] == pattern[match] { match += 1 }
                        if match == pattern.count { return true }
                    }
                    index += 1
                }
                return false
            }
        }
    }

    /// Without leading and trailing white space and newlines.
    static func trimmed(_ text: String) -> String {
        guard let first = text.firstIndex(where: { !$0.isWhitespace }),
              let last = text.lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(text[first...last])
    }

    static func mustache(_ value: Value) -> Any {
        switch value {
        case .string(let text): text
        case .number(let number): number == number.rounded() ? Int(number) as Any : number as Any
        case .bool(let flag): flag
        case .list(let items): items.map(mustache)
        case .object(let fields): fields.mapValues(mustache)
        default: value.text
        }
    }

    /// The top-level names a template reads (section contents are skipped: they read the section's own scope).
    static func variables(in text: String) -> [String] {
        var names: [String] = []
        var depth = 0
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { break }
            var tag = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = rest[close.upperBound...]
            if tag.hasPrefix("{") { tag = String(tag.dropFirst()) }
            if tag.hasSuffix("}") { tag = String(tag.dropLast()) }
            guard let sigil = tag.first else { continue }
            switch sigil {
            case "!", ">", "=": continue
            case "#", "^":
                if depth == 0 { names.append(Self.root(tag.dropFirst())) }
                depth += 1
            case "/": depth = max(0, depth - 1)
            case "&": if depth == 0 { names.append(Self.root(tag.dropFirst())) }
            default: if depth == 0 { names.append(Self.root(Substring(tag))) }
            }
        }
        return names.filter { !$0.isEmpty && $0 != "." }
    }

    static func root(_ name: Substring) -> String {
        String(name.trimmingCharacters(in: .whitespaces).split(separator: ".").first ?? "")
    }
}
