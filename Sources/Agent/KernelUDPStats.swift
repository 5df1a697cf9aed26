import Foundation

/// Reads a UDP socket's drop counter from `/proc/net/udp{,6}`.
enum KernelUDPStats {
    static func drops(inode: UInt64, files: [String] = ["/proc/net/udp", "/proc/net/udp6"]) -> UInt64? {
        for file in files {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            if let drops = drops(inode: inode, table: text) { return drops }
        }
        return nil
    }

    /// Finds the row whose `inode` column matches; `drops` is the last column.
    static func drops(inode: UInt64, table: String) -> UInt64? {
        let lines = table.split(separator: "\n")
        guard let header = lines.first else { return nil }
        let columns = header.split(separator: " ", omittingEmptySubsequences: true)
        guard let inodeColumn = columns.firstIndex(of: "inode") else { return nil }
        for line in lines.dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            // The header's "tx_queue rx_queue" and "tr tm->when" pairs are one field each in the rows.
            guard fields.count > 3, let last = fields.last else { continue }
            let inodeField = fields.count - (columns.count - inodeColumn)
            if inodeField >= 0, inodeField < fields.count, UInt64(fields[inodeField]) == inode {
                return UInt64(last)
            }
        }
        return nil
    }
}
