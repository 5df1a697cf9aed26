import Agent
import ArgumentParser

@main
struct Beetlewatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "beetlewatch",
        abstract: "StatsD collector and health agent for TigerBeetle.",
        version: Agent.version,
        subcommands: [RunCommand.self, CheckCommand.self, StatusCommand.self, ReplayCommand.self],
        defaultSubcommand: RunCommand.self
    )
}
