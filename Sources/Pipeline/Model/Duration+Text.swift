import Foundation

extension Duration {
    /// As a message says it: "30 s", "0.5 s".
    package var secondsText: String {
        let value = Double(components.seconds) + Double(components.attoseconds) / 1e18
        return value == value.rounded() ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }
}
