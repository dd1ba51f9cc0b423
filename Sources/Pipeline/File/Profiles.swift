import Foundation

/// A named set of overrides a pipeline can run in (`profiles:` in a pipeline file): drafts
/// cheap at 480p, finals at 1080p, the same film at 9:16 for social. A profile sets
/// generation parameters on every shot (every stage with ``TakeSupport``) and, by stage
/// name, any stage's parameters:
///
/// ```yaml
/// profiles:
///   draft:  { resolution: 480p }
///   final:  { resolution: 1080p, stages: { film: { crossfade: 0.5 } } }
///   social: { resolution: 720p, aspect_ratio: "9:16" }
/// default_profile: draft
/// ```
///
/// Takes are explored in the default profile. A run in any other profile *finishes the
/// picks*: one take per shot, with the seed of the take picked in the default profile (take
/// 1's where nothing is picked), at that profile's settings. The profile's name is never
/// part of an action key: the parameters it sets are, so a profile that changes nothing
/// hits the cache a pipeline without profiles filled.
public struct Profile: Sendable, Hashable {
    /// The generation parameters a profile may set on every shot.
    public static let generationKeys = ["resolution", "aspect_ratio", "duration", "generate_audio"]
    /// Every key a profile may have.
    public static let keys = generationKeys + ["stages", "encode"]

    public var name: String
    /// Set on every shot that takes the parameter.
    public var generation: [String: Value]
    /// Stage name → parameter → value (a macro's name sets the macro's parameter, and its
    /// shots' where they pass it through).
    public var stages: [String: [String: Value]]
    /// `encode:` settings over the pipeline's, for every stage that encodes.
    public var encode: [String: Value] = [:]
    /// Where the profile is declared.
    public var location: SourceLocation?
    /// Where each value is written: `resolution`, or `stages.NAME.KEY` (and each stage's name,
    /// `stages.NAME`).
    public var valueLocations: [String: SourceLocation]

    public init(name: String, generation: [String: Value] = [:], stages: [String: [String: Value]] = [:],
                location: SourceLocation? = nil, valueLocations: [String: SourceLocation] = [:]) {
        self.name = name
        self.generation = generation
        self.stages = stages
        self.location = location
        self.valueLocations = valueLocations
    }
}

/// The profiles of a pipeline and which one a graph was built in.
public struct ProfileChoice: Sendable, Hashable {
    /// In declaration order.
    public var profiles: [Profile]
    /// The profile takes are explored in, and what runs without `--profile`.
    public var defaultName: String
    /// The profile this graph is built in.
    public var selected: String

    public func profile(_ name: String) -> Profile? { profiles.first { $0.name == name } }
    /// The selected profile.
    public var current: Profile? { profile(selected) }
    /// Whether this graph finishes the picks (one take per shot, the picked seed) rather than
    /// exploring takes.
    public var finishing: Bool { selected != defaultName }
    public var names: [String] { profiles.map(\.name) }
}

/// Applies a profile to a pipeline's stages: before macros expand (stage names as written),
/// and after (every shot, and the shots a named macro made).
enum ProfileApplication {
    /// Stage overrides by the names written in the file; a name that is no stage is reported
    /// only if no expanded stage has it either (see ``afterExpansion``).
    static func beforeExpansion(_ stages: [StageNode], profile: Profile) -> [StageNode] {
        stages.map { node in
            guard let overrides = profile.stages[node.name] else { return node }
            return set(overrides, on: node, profile: profile, stage: node.name, only: nil)
        }
    }

    /// Generation parameters on every shot, then stage overrides again on the shots a named
    /// stage expanded into (for the parameters they carry), so a named stage's value wins.
    static func afterExpansion(_ stages: [StageNode], written: [StageNode], profile: Profile, registry: StageRegistry,
                               diagnostics: inout [Diagnostic]) -> [StageNode] {
        let writtenNames = Set(written.map(\.name))
        let expandedNames = Set(stages.map(\.name))
        for (name, _) in profile.stages.sorted(by: { $0.key < $1.key }) where !writtenNames.contains(name) && !expandedNames.contains(name) {
            let location = profile.valueLocations["stages.\(name)"] ?? profile.location
            diagnostics.append(Diagnostic("profile `\(profile.name)`: the pipeline has no stage `\(name)`", at: location,
                                          fix: closest(to: name, in: written.map(\.name)).map { "did you mean `\($0)`?" }
                                              ?? "stages: \(written.map(\.name).joined(separator: ", "))"))
        }
        return stages.map { node in
            var node = node
            if let signature = registry.stage(node.kind)?.signature, signature.takes != nil {
                let accepted = Set(signature.acceptedKeys)
                let generation = profile.generation.filter { accepted.contains($0.key) }
                node = set(generation, on: node, profile: profile, stage: nil, only: nil)
            }
            if let overrides = profile.stages[node.name] {
                node = set(overrides, on: node, profile: profile, stage: node.name, only: nil)
            }
            if let macro = node.expandedFrom, let overrides = profile.stages[macro] {
                node = set(overrides, on: node, profile: profile, stage: macro, only: Set(node.with.keys))
            }
            return node
        }
    }

    private static func set(_ values: [String: Value], on node: StageNode, profile: Profile, stage: String?, only: Set<String>?) -> StageNode {
        var node = node
        for (key, value) in values where only?.contains(key) ?? true {
            node.with[key] = .literal(value)
            node.inherited[key] = "profile `\(profile.name)`"
            if let location = profile.valueLocations[stage.map { "stages.\($0).\(key)" } ?? key] { node.keyLocations[key] = location }
        }
        return node
    }
}
