import Foundation

/// What seedpipe's emulator says of itself at `GET /_emulator/identity`: that it is one (so
/// its work is emulated, not paid) and what it bills a second of video.
public struct EmulatorIdentity: Codable, Sendable, Hashable {
    public var emulator: String
    public var pricePerSecond: Double
    /// Prices by resolution where they differ from ``pricePerSecond``.
    public var pricesByResolution: [String: Double]?

    /// The header seedpipe's emulator puts on every answer (`x-seedpipe-emulator: 1`).
    public static let header = "x-seedpipe-emulator"

    enum CodingKeys: String, CodingKey {
        case emulator
        case pricePerSecond = "price_per_second"
        case pricesByResolution = "prices_per_second"
    }

    public init(emulator: String, pricePerSecond: Double, pricesByResolution: [String: Double]? = nil) {
        self.emulator = emulator
        self.pricePerSecond = pricePerSecond
        self.pricesByResolution = pricesByResolution
    }
}
