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
}
