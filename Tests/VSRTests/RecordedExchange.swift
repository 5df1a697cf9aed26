import Foundation

/// The real exchanges in `Tests/Fixtures/tigerbeetle-vsr-ping.txt` and `tigerbeetle-vsr-canary.txt`: each `==` line,
/// the message sent (the dump before `reply:`) and the reply received (the dump after it, if any).
struct RecordedExchange {
    var title: String
    var sent: [UInt8]
    var reply: [UInt8]

    static func load(_ name: String = "tigerbeetle-vsr-ping.txt") throws -> [RecordedExchange] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/\(name)")
        let text = try String(contentsOf: url, encoding: .utf8)
        var exchanges: [RecordedExchange] = []
        var replying = false
        for line in text.split(separator: "\n") {
            if line.hasPrefix("== ") {
                exchanges.append(RecordedExchange(title: String(line.dropFirst(3)), sent: [], reply: []))
                replying = false
            } else if line.hasPrefix("reply:") {
                replying = true
            } else if let colon = line.firstIndex(of: ":"), line.prefix(while: { $0 == " " }).count >= 2, !exchanges.isEmpty {
                let hex = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                var bytes: [UInt8] = []
                var index = hex.startIndex
                while index < hex.endIndex {
                    let next = hex.index(index, offsetBy: 2)
                    bytes.append(UInt8(hex[index..<next], radix: 16)!)
                    index = next
                }
                if replying { exchanges[exchanges.count - 1].reply += bytes } else { exchanges[exchanges.count - 1].sent += bytes }
            }
        }
        return exchanges
    }
}
