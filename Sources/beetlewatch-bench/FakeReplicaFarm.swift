import Foundation

/// `fake-tigerbeetle` (built beside this binary; test code that answers pings as recorded replicas do) serving
/// `clusters` × `perCluster` replicas, clusters numbered from 1, and the agent configuration that watches them.
struct FakeReplicaFarm {
    let process = Process()
    let input = Pipe()
    /// The YAML configuration listing every cluster and its replicas' addresses.
    let config: String

    init(clusters: Int, perCluster: Int) throws {
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("fake-tigerbeetle")
        process.arguments = [String(clusters), String(perCluster)]
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        var text = ""
        while !text.hasSuffix("ready\n") {
            let data = output.fileHandleForReading.availableData
            guard !data.isEmpty else { throw BenchError("fake-tigerbeetle ended before it was ready") }
            text += String(decoding: data, as: UTF8.self)
        }
        config = String(text.dropLast("ready\n".count))
    }

    /// Writes the configuration to a temporary file; returns its path.
    func writeConfig(name: String) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("beetlewatch-\(name)-\(getpid()).yml")
        try config.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// Sends a command (`stop N`, `cont N`) to the farm.
    func command(_ text: String) {
        input.fileHandleForWriting.write((text + "\n").data(using: .utf8)!)
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
