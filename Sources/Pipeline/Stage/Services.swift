/// What stages are given to work with beyond their inputs: a client for a remote service,
/// its polling interval, a clock. Keyed by type, so a stage module defines the service type
/// it needs and whoever builds the run puts one in; the core knows none of them.
///
/// ```swift
/// var services = Services()
/// services.set(MyRenderFarm(url: farmURL))
/// let farm = try context.services.require(MyRenderFarm.self)   // inside a stage's run
/// ```
public struct Services: Sendable {
    private var values: [ObjectIdentifier: any Sendable] = [:]

    public init() {}

    public subscript<T: Sendable>(_ type: T.Type) -> T? {
        get { values[ObjectIdentifier(type)] as? T }
        set { values[ObjectIdentifier(type)] = newValue }
    }

    public mutating func set<T: Sendable>(_ value: T) { self[T.self] = value }

    /// The service, or a clear error naming what is missing.
    public func require<T: Sendable>(_ type: T.Type) throws -> T {
        guard let value = self[type] else {
            throw PipelineError(.missingService, "no \(T.self) was given to this run (put one in the executor's services)")
        }
        return value
    }
}
