import Foundation

/// What a plugin's program sees of seedpipe's environment: an allow-list, never the rest.
/// Every plugin gets ``passedThrough`` (the program's search path, home, locale, temporary
/// folder and terminal), `SEEDPIPE_PROTOCOL` and `SEEDPIPE_PLUGIN_DIR`; a manifest may ask
/// for more by name (`env: [NAME, …]`). A credential is never passed, even when asked: the
/// API key, the team cache's authorization, the shared journal's URL (it may hold the
/// database's password) and anything named like a key, token, secret or password.
public enum PluginEnvironment {
    /// Passed to every plugin when seedpipe has them.
    public static let passedThrough = ["PATH", "HOME", "LANG", "LANGUAGE", "TMPDIR", "TERM", "TZ", "USER", "LOGNAME"]

    /// seedpipe's own credentials, by name.
    public static let credentials: Set<String> = [
        "SEGMIND_API_KEY", "SEEDPIPE_REMOTE_CACHE_AUTH", "SEEDPIPE_SHARED_JOURNAL", "SEEDPIPE_REMOTE_CACHE",
    ]

    /// Whether `name` names a credential: one of seedpipe's, or a name that says so.
    public static func isCredential(_ name: String) -> Bool {
        let upper = name.uppercased()
        if credentials.contains(upper) { return true }
        return ["KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "AUTH", "CREDENTIAL"].contains { upper.contains($0) }
    }

    /// Whether `name` can name an environment variable.
    public static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !CharacterSet.decimalDigits.contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
    }

    /// The plugin's environment: the allow-list and what the manifest asks for, from `base`
    /// (seedpipe's own), with `SEEDPIPE_PROTOCOL` and `SEEDPIPE_PLUGIN_DIR`.
    public static func build(from base: [String: String], asked: [String] = [], plugin folder: URL) -> [String: String] {
        var environment: [String: String] = [:]
        for (name, value) in base where !isCredential(name) {
            if passedThrough.contains(name) || name.hasPrefix("LC_") || asked.contains(name) { environment[name] = value }
        }
        environment["SEEDPIPE_PROTOCOL"] = String(PluginManifest.supportedProtocols.upperBound)
        environment["SEEDPIPE_PLUGIN_DIR"] = folder.standardizedFileURL.path
        return environment
    }
}
