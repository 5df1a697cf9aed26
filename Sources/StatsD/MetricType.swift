/// The StatsD metric types beetlewatch understands, by their wire code.
public enum MetricType: UInt8, Sendable, CaseIterable {
    /// `c`: a count added to a counter; `@rate` scales it up.
    case counter
    /// `g`: an absolute value, or a delta when signed (depending on the naming mode).
    case gauge
    /// `ms`: a duration in milliseconds, observed into a summary.
    case timer
    /// `h`: an observation, observed into a summary.
    case histogram
    /// `d`: a DogStatsD distribution, observed into a summary.
    case distribution
    /// `s`: a set; the series counts the distinct members seen.
    case set

    /// The code on the wire (`c`, `g`, `ms`, `h`, `d`, `s`).
    public var code: String {
        switch self {
        case .counter: "c"
        case .gauge: "g"
        case .timer: "ms"
        case .histogram: "h"
        case .distribution: "d"
        case .set: "s"
        }
    }

    /// Whether values of this type are observations (timer, histogram, distribution).
    public var isObservation: Bool {
        self == .timer || self == .histogram || self == .distribution
    }

    /// Recognises a type code from its bytes.
    @inlinable
    public init?(code: UnsafeRawBufferPointer) {
        switch code.count {
        case 1:
            switch code[0] {
            case UInt8(ascii: "c"): self = .counter
            case UInt8(ascii: "g"): self = .gauge
            case UInt8(ascii: "h"): self = .histogram
            case UInt8(ascii: "d"): self = .distribution
            case UInt8(ascii: "s"): self = .set
            default: return nil
            }
        case 2 where code[0] == UInt8(ascii: "m") && code[1] == UInt8(ascii: "s"):
            self = .timer
        default:
            return nil
        }
    }
}
