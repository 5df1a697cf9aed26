/// The address Prometheus scrapes beetlewatch at, as the service-discovery document names it: the `Host` header of
/// the request that fetched the document (how Prometheus reached beetlewatch), checked, since it is the client's
/// text: a hostname, an IPv4 address or a bracketed IPv6 address, each with an optional port.
enum ScrapeAddress {
    /// A 253-byte name (DNS's limit), a colon and five digits.
    static let maxLength = 253 + 6

    /// `text` when it is an address a target can name, else why not.
    static func parse(_ text: String) -> Result<String, Refusal> {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return .failure(Refusal("the Host header is empty")) }
        guard bytes.count <= maxLength else { return .failure(Refusal("the Host header is longer than \(maxLength) bytes")) }
        let host: ArraySlice<UInt8>
        let port: ArraySlice<UInt8>?
        if bytes[0] == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else {
                return .failure(Refusal("the Host header's IPv6 address has no closing bracket"))
            }
            guard isIPv6(bytes[1..<close]) else { return .failure(Refusal("the Host header's bracketed address is not an IPv6 address")) }
            host = bytes[...close]
            let rest = bytes[(close + 1)...]
            guard rest.isEmpty || rest.first == UInt8(ascii: ":") else {
                return .failure(Refusal("the Host header has something other than a port after its IPv6 address"))
            }
            port = rest.isEmpty ? nil : rest.dropFirst()
        } else {
            let colons = bytes.indices.filter { bytes[$0] == UInt8(ascii: ":") }
            guard colons.count <= 1 else { return .failure(Refusal("the Host header's IPv6 address is not in brackets")) }
            host = colons.first.map { bytes[..<$0] } ?? bytes[...]
            port = colons.first.map { bytes[($0 + 1)...] }
            guard isIPv4(host) || isHostname(host) else {
                return .failure(Refusal("the Host header's host is neither a hostname nor an IPv4 address"))
            }
        }
        if let port, !isPort(port) { return .failure(Refusal("the Host header's port is not a number from 1 to 65535")) }
        return .success(text)
    }

    /// Why a `Host` header names no target.
    struct Refusal: Error, Equatable, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func isPort(_ digits: ArraySlice<UInt8>) -> Bool {
        guard (1...5).contains(digits.count), digits.allSatisfy(isDigit) else { return false }
        let value = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        return (1...65535).contains(value)
    }

    /// Four decimal parts of 0...255 (at most three digits each).
    static func isIPv4(_ text: ArraySlice<UInt8>) -> Bool {
        let parts = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { isPort($0) || $0.elementsEqual([UInt8(ascii: "0")]) }
            && parts.allSatisfy { $0.count <= 3 && $0.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) } <= 255 }
    }

    /// Dot-separated labels of letters, digits, `-` and `_`, 1 to 63 bytes each, not starting or ending with `-`;
    /// not all digits and dots (that is an IPv4 address or nothing).
    static func isHostname(_ text: ArraySlice<UInt8>) -> Bool {
        guard (1...253).contains(text.count), !text.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ".") }) else { return false }
        return text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.count) && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { isDigit($0) || isLetter($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
        }
    }

    /// Hex digits, colons and (for an embedded IPv4 address) dots, with at least two colons; no zone.
    static func isIPv6(_ text: ArraySlice<UInt8>) -> Bool {
        (2...45).contains(text.count) && text.filter { $0 == UInt8(ascii: ":") }.count >= 2
            && text.allSatisfy { isDigit($0) || (0x61...0x66).contains($0 | 0x20) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }
    }

    static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
    static func isLetter(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte | 0x20) }
}
