import Foundation
import Pipeline
import Testing

/// `Value` as JSON: every kind comes back as itself (records, run.json and the journal hold them).
@Suite(.timeLimit(.minutes(10))) struct ValueCodingTests {
    @Test func everyKindRoundTrips() throws {
        let artifact = Artifact(digest: String(repeating: "ab", count: 32), type: .video, fileExtension: "mp4", size: 42)
        let values: [Value] = [
            .null, .bool(true), .bool(false), .number(0), .number(1), .number(-2.5), .string(""), .string("true"), .string("1"),
            .list([]), .list([.string("a"), .number(1), .bool(true), .null]), .object([:]),
            .object(["artifact": .string("not one"), "n": .number(3)]), .artifact(artifact),
            .object(["clips": .list([.artifact(artifact)]), "text": .string("a still lake")]),
        ]
        for value in values {
            let data = try JSONEncoder().encode(value)
            #expect(try JSONDecoder().decode(Value.self, from: data) == value, "\(String(decoding: data, as: UTF8.self))")
        }
    }
}
