import Yams

/// Builds the configuration from its sources. Precedence: flags > environment >
/// config file > defaults. Pure: the caller reads the file and the environment.
public enum ConfigLoader {
    /// The flag and variable that name the config file (they are not settings themselves).
    public static let configFileFlag = "config.file"
    public static let configFileVariable = "BEETLEWATCH_CONFIG_FILE"

    /// - Parameters:
    ///   - flags: setting key → value given on the command line.
    ///   - environment: the process environment (only `BEETLEWATCH_*` is read).
    ///   - file: the config file's name (for messages) and YAML text, if one was given.
    public static func load(flags: [String: String], environment: [String: String],
                            file: (name: String, contents: String)?) throws(ConfigError) -> AgentConfig {
        for key in flags.keys where Setting.named(key) == nil {
            throw ConfigError(field: key, source: "--\(key)", reason: "unknown flag")
        }
        let fileValues = try file.map { file throws(ConfigError) in try flatten(yaml: file.contents, name: file.name) } ?? [:]
        var config = AgentConfig()
        for setting in Setting.all {
            let value: String
            let source: String
            if let flag = flags[setting.key] {
                (value, source) = (flag, setting.flag)
            } else if let env = environment[setting.environmentVariable] {
                (value, source) = (env, setting.environmentVariable)
            } else if let fromFile = fileValues[setting.key], let file {
                (value, source) = (fromFile, "\(file.name): \(setting.key)")
            } else {
                (value, source) = (setting.defaultValue, "default")
            }
            do {
                try setting.apply(&config, value)
            } catch {
                throw ConfigError(field: setting.key, source: source, reason: error.reason)
            }
        }
        return config
    }

    /// `BEETLEWATCH_*` variables that name no setting (worth a warning: probably a typo).
    public static func unknownVariables(in environment: [String: String]) -> [String] {
        let known = Set(Setting.all.map(\.environmentVariable) + [configFileVariable])
        return environment.keys.filter { $0.hasPrefix("BEETLEWATCH_") && !known.contains($0) }.sorted()
    }

    /// Flattens the YAML mapping into `section.key` → scalar text; unknown keys are errors.
    static func flatten(yaml: String, name: String) throws(ConfigError) -> [String: String] {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(field: "(file)", source: name, reason: "not valid YAML: \(error)")
        }
        guard let node else { return [:] }
        guard case .mapping = node else {
            throw ConfigError(field: "(file)", source: name, reason: "the top level must be a mapping of sections, e.g. statsd: {ttl: 5m}")
        }
        var out: [String: String] = [:]
        try flatten(node, prefix: "", name: name, into: &out)
        return out
    }

    private static func flatten(_ node: Node, prefix: String, name: String, into out: inout [String: String]) throws(ConfigError) {
        switch node {
        case .mapping(let mapping):
            for (keyNode, value) in mapping {
                guard let key = keyNode.string else {
                    throw ConfigError(field: prefix.isEmpty ? "(file)" : prefix, source: name, reason: "keys must be strings")
                }
                let path = prefix.isEmpty ? key : prefix + "." + key
                try flatten(value, prefix: path, name: name, into: &out)
            }
        case .scalar(let scalar):
            guard Setting.named(prefix) != nil else {
                let sections = Set(Setting.all.map { String($0.key.split(separator: ".")[0]) }).sorted()
                throw ConfigError(field: prefix, source: name, reason: "unknown key (sections: \(sections.joined(separator: ", ")); keys mirror the flags)")
            }
            out[prefix] = scalar.string
        case .sequence, .alias:
            throw ConfigError(field: prefix, source: name, reason: "expected a single value, not a list")
        }
    }
}
