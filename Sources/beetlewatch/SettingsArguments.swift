import Agent
import ArgumentParser
import Config
import Foundation

/// The agent's settings on the command line. The flags come from the one
/// table in `Setting.all`, which also drives the environment variables, the
/// config file keys and the docs, so they are parsed here rather than declared
/// one by one.
struct SettingsArguments: ParsableArguments {
    @Option(name: .customLong("config.file"), help: "YAML config file; its keys mirror the flags (statsd: {ttl: 5m}).")
    var configFile: String?

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var settingFlags: [String] = []

    /// The settings given as flags: `--key value` or `--key=value`.
    func flagValues() throws(ConfigError) -> [String: String] {
        var values: [String: String] = [:]
        var index = 0
        while index < settingFlags.count {
            let word = settingFlags[index]
            guard word.hasPrefix("--") else {
                throw ConfigError(field: word, source: "command line", reason: "unexpected argument")
            }
            var key = String(word.dropFirst(2))
            var value: String
            if let equals = key.firstIndex(of: "=") {
                value = String(key[key.index(after: equals)...])
                key = String(key[..<equals])
            } else {
                guard index + 1 < settingFlags.count else {
                    throw ConfigError(field: key, source: word, reason: "missing value")
                }
                index += 1
                value = settingFlags[index]
            }
            guard let setting = Setting.named(key) else {
                throw ConfigError(field: key, source: word, reason: "unknown flag (see beetlewatch run --help)")
            }
            if setting.repeatable, let earlier = values[key] {
                values[key] = earlier + String(Setting.listSeparator) + value
            } else {
                values[key] = value
            }
            index += 1
        }
        return values
    }

    /// Flags > environment > config file > defaults, from parsed flags (again on every reload).
    static func load(
        flags: [String: String], configFile: String?,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError) -> AgentConfig {
        let path = configFile ?? environment[ConfigLoader.configFileVariable]
        var file: (name: String, contents: String)?
        if let path {
            do throws(ReasonError) {
                file = (path, try TextFile.read(path))
            } catch {
                throw ConfigError(
                    field: ConfigLoader.configFileFlag, source: configFile != nil ? "--config.file" : ConfigLoader.configFileVariable,
                    reason: "cannot read the config file: \(error.reason)")
            }
        }
        return try ConfigLoader.load(flags: flags, environment: environment, file: file)
    }

    /// `--help` text listing every setting with its variable and default.
    static var settingsHelp: String {
        var out = "Settings (flag, environment variable, default); every flag is also a config file key:\n"
        for setting in Setting.all {
            out +=
                "  \(setting.flag) <value>\(setting.repeatable ? " (repeatable)" : "")\n      \(setting.help)\n      env \(setting.environmentVariable), default \(setting.defaultValue ?? "none")\n"
        }
        return out
    }
}
