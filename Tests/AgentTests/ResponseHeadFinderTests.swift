import Testing

@testable import Agent

/// The end of a response head is found in linear time, whatever the pace of the peer that sends it.
@Suite struct ResponseHeadFinderTests {
    static let head = Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Pad: \(String(repeating: "a", count: 60_000))\r\n\r\nok".utf8)
    static let bodyStart = head.count - 2

    /// A byte a read, the slowest a peer can be: each position is ruled out once (60 KiB of positions, not the
    /// ~1.8 × 10^9 a search of the whole buffer after every read made).
    @Test func aHeadSentAByteAtATimeIsScannedOnce() {
        var finder = ResponseHeadFinder()
        var buffer: [UInt8] = []
        var found: Int?
        for byte in Self.head where found == nil {
            buffer.append(byte)
            found = finder.find(in: buffer)
        }
        #expect(found == Self.bodyStart)
        #expect(finder.nextCandidate == Self.bodyStart - 4)
        #expect(buffer.count == Self.bodyStart)
    }

    /// Any cut of the same bytes into reads finds the same end, also when the CRLF CRLF is split across reads.
    @Test(arguments: [1, 2, 3, 5, 7, 4096, 100_000])
    func everyPaceFindsTheSameEnd(_ readSize: Int) {
        var finder = ResponseHeadFinder()
        var buffer: [UInt8] = []
        var found: Int?
        var offset = 0
        while found == nil && offset < Self.head.count {
            buffer += Self.head[offset..<min(Self.head.count, offset + readSize)]
            offset += readSize
            found = finder.find(in: buffer)
        }
        #expect(found == Self.bodyStart)
        #expect(HTTPClient.headEnd(Self.head) == Self.bodyStart)
        #expect(HTTPClient.headEnd(Array("HTTP/1.1 200 OK\r\n\r".utf8)) == nil)
        #expect(HTTPClient.headEnd([]) == nil)
    }
}
