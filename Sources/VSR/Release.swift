/// A TigerBeetle release, as its headers carry it: `patch | minor << 8 | major << 16` in a u32.
public struct Release: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: UInt16
    public var minor: UInt8
    public var patch: UInt8

    public init(major: UInt16, minor: UInt8, patch: UInt8) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }

    /// From the packed u32 of a header's `release`.
    public init(packed: UInt32) {
        self.init(
            major: UInt16(truncatingIfNeeded: packed >> 16), minor: UInt8(truncatingIfNeeded: packed >> 8),
            patch: UInt8(truncatingIfNeeded: packed))
    }

    /// `0.17.9`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 5 && $0.allSatisfy(\.isASCII) }),
            let major = UInt16(parts[0]), let minor = UInt8(parts[1]), let patch = UInt8(parts[2])
        else { return nil }
        self.init(major: major, minor: minor, patch: patch)
    }

    public var packed: UInt32 { UInt32(patch) | UInt32(minor) << 8 | UInt32(major) << 16 }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (a: Release, b: Release) -> Bool { a.packed < b.packed }
}
