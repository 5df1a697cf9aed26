import Agent
import ArgumentParser
import Config
import Foundation

/// Sends a StatsD capture to an address, datagram by datagram.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send a StatsD capture (JSONL: {\"t\": seconds, \"data\": datagram}) over UDP.",
        discussion: "Example: beetlewatch replay Tests/Fixtures/tigerbeetle-3-replicas.statsd.jsonl --to 127.0.0.1:8125 --speed 10"
    )

    @Argument(help: "The capture file (.jsonl).")
    var file: String

    @Option(help: "Where to send it: HOST:PORT.")
    var to: String = "127.0.0.1:8125"

    @Option(help: "Time scale: 1 = as recorded, 10 = ten times faster, 0 = as fast as possible.")
    var speed: Double = 1

    func validate() throws {
        guard speed >= 0, speed.isFinite else { throw ValidationError("--speed must be 0 or more, got \(speed)") }
        guard HostPort(parsing: to) != nil else { throw ValidationError("--to must be HOST:PORT, got \(to)") }
    }

    func run() throws {
        let capture = try CaptureFile.load(path: file)
        let sender = try StatsDSender(to: HostPort(parsing: to)!)
        let sent = try sender.replay(capture, speed: speed)
        FileHandle.standardError.write(Data("replayed \(sent) datagrams to \(to)\n".utf8))
    }
}
