/// An API key that never shows itself: printing, logging or interpolating it gives `***`.
public struct APIKey: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    let secret: String

    public init(_ secret: String) { self.secret = secret }

    /// The key in `SEGMIND_API_KEY`, if set and not empty.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfoEnvironment.current)
        -> APIKey?
    {
        guard let value = environment["SEGMIND_API_KEY"]?.trimmingCharacters(in: .whitespacesAndNewlines),
              !value.isEmpty else { return nil }
        return APIKey(value)
    }

    public var description: String { "***" }
    public var debugDescription: String { "APIKey(***)" }
}

import Foundation

public enum ProcessInfoEnvironment {
    public static var current: [String: String] { ProcessInfo.processInfo.environment }
}
