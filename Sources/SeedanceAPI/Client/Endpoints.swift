import Foundation

/// Where the client sends each kind of request.
public struct Endpoints: Sendable, Hashable {
    /// The inference API: `/v1/…`, `/v2/…`.
    public var api: URL
    /// The storage API: `/upload-asset`.
    public var storage: URL
    /// The request-history API: `/inference-request/request-history`.
    public var history: URL

    public init(api: URL, storage: URL, history: URL) {
        self.api = api
        self.storage = storage
        self.history = history
    }

    /// Segmind's production hosts.
    public static let segmind = Endpoints(
        api: URL(string: "https://api.segmind.com")!,
        storage: URL(string: "https://workflows-api.segmind.com")!,
        history: URL(string: "https://api.spotprod.segmind.com")!)

    /// One server answering everything (the emulator).
    public static func single(_ base: URL) -> Endpoints {
        Endpoints(api: base, storage: base, history: base)
    }

    /// True for a URL on one of these hosts: only they are sent the API key.
    func owns(_ url: URL) -> Bool {
        [api, storage, history].contains { $0.host == url.host && $0.port == url.port && $0.scheme == url.scheme }
    }
}
