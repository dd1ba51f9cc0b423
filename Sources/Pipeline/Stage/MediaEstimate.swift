/// A clip not made yet whose length is already known (a generation asks for its duration):
/// what `validate` hands a stage's ``Stage/check(_:)`` in place of the clip, so a trim past
/// its end or a crossfade longer than it is refused before anything is paid for. A check
/// reads it with ``duration(of:)``; anything else about the clip stays unknown.
public enum MediaEstimate {
    static let key = "$estimated_duration"

    /// The stand-in for a clip of `seconds`.
    public static func value(seconds: Double) -> Value { .object([key: .number(seconds)]) }

    /// The length of a clip given as `value`, when it is a stand-in.
    public static func duration(of value: Value?) -> Double? { value?.object?[key]?.number }
}
