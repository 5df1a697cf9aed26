import ArgumentParser

@main
struct Beetlewatch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beetlewatch",
        abstract: "StatsD collector and health agent for TigerBeetle.",
        version: "0.1.0",
        subcommands: [RunCommand.self, ReplayCommand.self, BenchCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
