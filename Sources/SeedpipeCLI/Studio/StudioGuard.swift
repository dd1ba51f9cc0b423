import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers

/// What keeps the studio private to the person who opened it, on every request (the page,
/// the API, the events and the media), as Jupyter and other local web tools do:
///
/// - The `Host` header must name the address the studio listens on, with its port
///   (`127.0.0.1`, `localhost` and `[::1]` on loopback, or the `--host` given): a page
///   elsewhere that rebinds its own name to 127.0.0.1 (DNS rebinding) gets 403.
/// - The launch token is needed: the printed URL (`/?token=…`) sets it as an `HttpOnly`,
///   `SameSite=Strict` cookie and redirects to the same page without it in the address;
///   later requests carry the cookie, or the `x-studio-token` header (for scripts).
/// - A request that changes something (not GET or HEAD) with an `Origin` header must come
///   from the studio's own origin.
///
/// Tokens are compared in constant time. The token never goes further than this check.
struct StudioGuard<Context: RequestContext>: RouterMiddleware {
    static var cookieName: String { "seedpipe_studio" }

    let token: String
    /// The address the studio listens on, as given (`127.0.0.1`, `::1`, `0.0.0.0`, a name).
    let host: String
    /// The port it is bound to, known once it listens.
    let port: NIOLockedValueBox<Int>

    /// The host names a request may use (lowercased, without the port).
    var names: Set<String> {
        var names: Set<String> = [host.lowercased().contains(":") ? "[\(host.lowercased())]" : host.lowercased()]
        if ["127.0.0.1", "::1", "localhost", "0.0.0.0", "::"].contains(host.lowercased()) {
            names.formUnion(["127.0.0.1", "localhost", "[::1]"])
        }
        return names
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let authority = request.head.authority, allows(authority: authority) else {
            return Self.forbidden("this page answers only to its own address (the Host header names another)")
        }
        if let given = request.uri.queryParameters.get("token"), request.method == .get {
            guard Self.same(given, token) else { return Self.forbidden("the token in the address is not this studio's") }
            // Into a cookie, and out of the address (and so of the history and any Referer).
            var query = request.uri.queryParameters.filter { $0.key != "token" }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
            if !query.isEmpty { query = "?" + query }
            var response = Response(status: .seeOther, headers: [.location: request.uri.path + query, .cacheControl: "no-store"])
            response.setCookie(Cookie(name: Self.cookieName, value: token, path: "/", httpOnly: true, sameSite: .strict))
            return response
        }
        let presented = request.headers[HTTPField.Name("x-studio-token")!] ?? request.cookies[Self.cookieName]?.value
        guard let presented, Self.same(presented, token) else {
            return Self.forbidden("open the address the studio printed (with its token) first")
        }
        if request.method != .get, request.method != .head, let origin = request.headers[.origin] {
            guard allows(origin: origin) else { return Self.forbidden("a change from another site's page (Origin \(origin)) is refused") }
        }
        return try await next(request, context)
    }

    /// `name:port` with one of the studio's names and its bound port.
    func allows(authority: String) -> Bool {
        let lowered = authority.lowercased()
        guard let colon = lowered.lastIndex(of: ":"), !lowered.hasSuffix("]") else { return false }
        let name = String(lowered[..<colon]), port = Int(lowered[lowered.index(after: colon)...])
        return port == self.port.withLockedValue { $0 } && names.contains(name)
    }

    func allows(origin: String) -> Bool {
        guard origin.lowercased().hasPrefix("http://") else { return false }
        return allows(authority: String(origin.dropFirst("http://".count)))
    }

    /// Equal, in time that does not depend on where they differ.
    static func same(_ given: String, _ expected: String) -> Bool {
        let a = Array(given.utf8), b = Array(expected.utf8)
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for index in 0..<b.count { difference |= (index < a.count ? a[index] : 0) ^ b[index] }
        return difference == 0 && a.count == b.count
    }

    static func forbidden(_ reason: String) -> Response {
        Response(status: .forbidden, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"error":"\#(reason.replacingOccurrences(of: "\"", with: "'"))"}"#)))
    }
}
