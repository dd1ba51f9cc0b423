import Foundation
import Media

/// Generated media for tests: nothing binary is committed.
public enum Fixtures {
    /// Renders a synthetic clip into `folder` and returns its URL.
    @discardableResult
    public static func clip(_ name: String, in folder: TemporaryFolder, _ clip: SyntheticClip = SyntheticClip())
        throws -> URL
    {
        let url = folder.file(name)
        try clip.render(to: url)
        return url
    }

    /// A 320×180 picture of one colour with a bright block (so clips made from it have
    /// something to move), written as PNG or JPEG by the file's extension.
    public static func picture(_ url: URL, red: UInt8, green: UInt8, blue: UInt8) throws {
        var image = FrameImage(width: 320, height: 180, red: red, green: green, blue: blue)
        for y in 40..<90 { for x in 60..<140 { image.pixels.replaceSubrange((y * 320 + x) * 3..<(y * 320 + x) * 3 + 3, with: [250, 250, 250]) } }
        try image.write(to: url)
    }
}
