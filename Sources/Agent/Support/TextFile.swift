import Config
import Foundation
import Glibc

/// Reads a configuration, certificate or password file, failing in plain words ("no such file", "is a directory,
/// not a file", "permission denied") instead of Foundation's "The operation could not be completed".
public enum TextFile {
    /// At most this much is read: these files are small, and a huge file or an endless device (`/dev/zero`) must not
    /// exhaust the agent.
    public static let maxBytes = 16 << 20

    public static func read(_ path: String) throws(ReasonError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReasonError(describe(errno, path)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ReasonError(describe(errno, path)) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw ReasonError("\(path) is a directory, not a file") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReasonError(describe(errno, path))
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
            if bytes.count > maxBytes { throw ReasonError("\(path) is larger than \(maxBytes >> 20) MiB") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw ReasonError("\(path) is not UTF-8 text") }
        return text
    }

    static func describe(_ code: Int32, _ path: String) -> String {
        switch code {
        case ENOENT: "\(path): no such file"
        case EACCES: "\(path): permission denied (beetlewatch runs as uid \(getuid()))"
        case EISDIR: "\(path) is a directory, not a file"
        case ENOTDIR: "\(path): a part of the path is not a directory"
        default: "\(path): \(String(cString: strerror(code)))"
        }
    }
}
