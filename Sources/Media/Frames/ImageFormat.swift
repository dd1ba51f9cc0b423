/// Still-image formats Media can write.
public enum ImageFormat: String, Sendable, Codable, CaseIterable {
    /// Lossless; the right choice for frames that feed another generation.
    case png
    /// Small; the right choice for posters and previews.
    case jpeg

    /// The format a file name asks for (`.png`, `.jpg`, `.jpeg`), or nil.
    public init?(pathExtension: String) {
        switch pathExtension.lowercased() {
        case "png": self = .png
        case "jpg", "jpeg": self = .jpeg
        default: return nil
        }
    }
}
