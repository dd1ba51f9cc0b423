import Foundation
import Pipeline
import SeedanceAPI

/// A file uploaded to the service's storage: journaled by its digest so it is uploaded once.
public struct UploadEntry: Sendable, Codable, Hashable {
    public static let kind = "seedance.upload"
    public var digest: String
    /// The storage endpoint it went to (an upload to another storage is another upload).
    public var storage: String
    public var url: String
    public var uploadedAt: Date
}
