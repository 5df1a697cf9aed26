import Agent
import Config
import Foundation
import Testing

/// Files that cannot be read say why in plain words.
@Suite struct TextFileTests {
    @Test func missingADirectoryAndText() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("beetlewatch-text-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func reason(_ path: String) -> String? {
            do throws(ReasonError) {
                _ = try TextFile.read(path)
                return nil
            } catch { return error.reason }
        }
        #expect(reason(directory.path + "/none.yml") == "\(directory.path)/none.yml: no such file")
        #expect(reason(directory.path) == "\(directory.path) is a directory, not a file")
        #expect(reason(directory.path + "/none/x.yml") == "\(directory.path)/none/x.yml: no such file")
        let binary = directory.appendingPathComponent("b.yml")
        try Data([0xff, 0xfe, 0x00]).write(to: binary)
        #expect(reason(binary.path) == "\(binary.path) is not UTF-8 text")
        let good = directory.appendingPathComponent("g.yml")
        try "statsd: {ttl: 5m}\n".write(to: good, atomically: true, encoding: .utf8)
        #expect(try TextFile.read(good.path) == "statsd: {ttl: 5m}\n")
    }
}
