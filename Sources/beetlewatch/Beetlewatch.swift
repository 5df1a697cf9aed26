import ArgumentParser

@main
struct Beetlewatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beetlewatch",
        abstract: "StatsD collector and health agent for TigerBeetle.",
        version: "0.1.0",
        subcommands: [RunCommand.self, CheckCommand.self, StatusCommand.self, ReplayCommand.self, BenchCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
