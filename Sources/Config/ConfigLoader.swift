import Alerting
import Health
import TigerBeetle
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
    public static func load(
        flags: [String: String], environment: [String: String],
        file: (name: String, contents: String)?
    ) throws(ConfigError) -> AgentConfig {
        for key in flags.keys where Setting.named(key) == nil {
            throw ConfigError(
                field: key.isEmpty ? "(flag)" : key, source: "--\(key)",
                reason: key.isEmpty ? "an empty flag name" : "unknown flag")
        }
        let parsedFile = try file.map { file throws(ConfigError) in try flatten(yaml: file.contents, name: file.name) }
        let fileValues = parsedFile?.values ?? [:]
        var config = AgentConfig()
        var sources: [String: String] = [:]
        config.fileClusters = parsedFile?.clusters ?? []
        config.fileReceivers = parsedFile?.receivers ?? []
        config.alertRules = parsedFile?.rules ?? AlertRules()
        for setting in Setting.all {
            let value: String
            let source: String
            if let flag = flags[setting.key] {
                (value, source) = (flag, setting.flag)
            } else if let env = environment[setting.environmentVariable] {
                (value, source) = (env, setting.environmentVariable)
            } else if let fromFile = fileValues[setting.key], let file {
                (value, source) = (fromFile, "\(file.name): \(setting.key)")
            } else if let defaultValue = setting.defaultValue {
                (value, source) = (defaultValue, "default")
            } else {
                continue
            }
            do {
                try setting.apply(&config, value)
            } catch {
                throw ConfigError(field: setting.key, source: source, reason: error.reason)
            }
            sources[setting.key] = source
        }
        if (config.tigerBeetleCluster == nil) != (config.tigerBeetleAddresses == nil) {
            let given = config.tigerBeetleCluster == nil ? "tigerbeetle.addresses" : "tigerbeetle.cluster"
            let missing = config.tigerBeetleCluster == nil ? "tigerbeetle.cluster" : "tigerbeetle.addresses"
            throw ConfigError(
                field: missing, source: sources[given] ?? "configuration",
                reason: "\(given) is set but \(missing) is not: a watched cluster needs both")
        }
        if let file, let decimal = config.tigerBeetleCluster, let id = try? TigerBeetleCluster.hexID(decimal: decimal),
            let i = config.fileClusters.firstIndex(where: { $0.id == id })
        {
            let flagSource = sources["tigerbeetle.cluster"] ?? "configuration"
            throw ConfigError(
                field: "tigerbeetle.cluster", source: "\(flagSource) and \(file.name): \(clustersKey)[\(i)]",
                reason: "cluster \(decimal) is defined twice; define it in one place")
        }
        return config
    }

    /// The config file key for several watched clusters (a list; no flag or variable).
    public static let clustersKey = "tigerbeetle.clusters"
    /// Webhook receivers with all their options (a list).
    public static let receiversKey = "receivers"
    /// Per-rule overrides: `rules: {TigerBeetleReplicaUnreachable: {for: 30s, severity: warning, enabled: false}}`.
    public static let rulesKey = "rules"

    /// `tigerbeetle: {clusters: [{cluster: 0, addresses: "a:3001,b:3001,c:3001", canary: false}, ...]}`;
    /// `addresses` may also be a list; `canary` (default true) turns the cluster's canary off.
    static func watchedClusters(_ node: Node, name: String) throws(ConfigError) -> [WatchedCluster] {
        guard case .sequence(let items) = node else {
            throw ConfigError(field: clustersKey, source: name, reason: "expected a list of {cluster, addresses}")
        }
        var clusters: [WatchedCluster] = []
        for (i, item) in items.enumerated() {
            let field = "\(clustersKey)[\(i)]"
            guard case .mapping(let mapping) = item else {
                throw ConfigError(field: field, source: name, reason: "expected {cluster: ID, addresses: ...}")
            }
            for key in mapping.keys where !["cluster", "addresses", "canary"].contains(key.string ?? "") {
                throw ConfigError(
                    field: "\(field).\(key.string ?? "?")", source: located(name, key),
                    reason: unknown(key.string ?? "?", valid: ["addresses", "canary", "cluster"]))
            }
            guard let clusterName = mapping["cluster"]?.string else {
                throw ConfigError(field: "\(field).cluster", source: name, reason: "missing")
            }
            let addressText: String
            switch mapping["addresses"] {
            case .scalar(let scalar)?: addressText = scalar.string
            case .sequence(let list)?: addressText = try scalars(list, field: "\(field).addresses", name: name).joined(separator: ",")
            default: throw ConfigError(field: "\(field).addresses", source: name, reason: "missing")
            }
            var canary = true
            if let node = mapping["canary"] {
                guard case .scalar(let scalar) = node, let value = Bool(scalar.string.lowercased()) else {
                    throw ConfigError(field: "\(field).canary", source: located(name, node), reason: "expected true or false")
                }
                canary = value
            }
            do throws(ReasonError) {
                let id = try TigerBeetleCluster.hexID(decimal: clusterName)
                let addresses = try TigerBeetleCluster.addresses(addressText)
                if clusters.contains(where: { $0.id == id }) {
                    throw ReasonError("cluster \(clusterName) is listed twice")
                }
                clusters.append(WatchedCluster(id: id, name: clusterName, addresses: addresses, canary: canary))
            } catch {
                throw ConfigError(field: field, source: name, reason: error.reason)
            }
        }
        return clusters
    }

    /// The items of a YAML list of single values; a nested list or mapping is an error naming its index.
    static func scalars(_ items: some Sequence<Node>, field: String, name: String) throws(ConfigError) -> [String] {
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .scalar(let scalar) = item else {
                throw ConfigError(field: "\(field)[\(i)]", source: name, reason: "expected a single value, not a list or mapping")
            }
            out.append(scalar.string)
        }
        return out
    }

    /// `BEETLEWATCH_*` variables that name no setting (worth a warning: probably a typo).
    public static func unknownVariables(in environment: [String: String]) -> [String] {
        let known = Set(Setting.all.map(\.environmentVariable) + [configFileVariable])
        return environment.keys.filter { $0.hasPrefix("BEETLEWATCH_") && !known.contains($0) }.sorted()
    }

    /// Flattens the YAML mapping into `section.key` → scalar text; unknown keys are errors.
    /// What a config file holds: flat settings, and the structured sections.
    struct FileContents {
        var values: [String: String] = [:]
        var clusters: [WatchedCluster] = []
        var receivers: [WebhookReceiverConfig] = []
        var rules: AlertRules?
    }

    static func flatten(yaml: String, name: String) throws(ConfigError) -> FileContents {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError(field: "(file)", source: name, reason: "not valid YAML: \(error)")
        }
        guard let node else { return FileContents() }
        guard case .mapping = node else {
            throw ConfigError(field: "(file)", source: name, reason: "the top level must be a mapping of sections, e.g. statsd: {ttl: 5m}")
        }
        var contents = FileContents()
        try flatten(node, prefix: "", name: name, into: &contents)
        return contents
    }

    private static func flatten(_ node: Node, prefix: String, name: String, into contents: inout FileContents) throws(ConfigError) {
        switch prefix {
        case clustersKey:
            contents.clusters = try watchedClusters(node, name: name)
            return
        case receiversKey:
            contents.receivers = try FileSections.receivers(node, name: name)
            return
        case rulesKey:
            contents.rules = try FileSections.rules(node, name: name)
            return
        default:
            break
        }
        switch node {
        case .mapping(let mapping):
            for (keyNode, value) in mapping {
                guard let key = keyNode.string, !key.isEmpty else {
                    throw ConfigError(
                        field: prefix.isEmpty ? "(file)" : prefix, source: located(name, keyNode), reason: "keys must be non-empty strings")
                }
                let path = prefix.isEmpty ? key : prefix + "." + key
                guard knownPaths.contains(where: { $0 == path || $0.hasPrefix(path + ".") }) else {
                    throw ConfigError(field: path, source: located(name, keyNode), reason: unknown(key, valid: validKeys(under: prefix)))
                }
                try flatten(value, prefix: path, name: name, into: &contents)
            }
        case .scalar(let scalar):
            guard Setting.named(prefix) != nil else {
                throw ConfigError(
                    field: prefix, source: located(name, node),
                    reason: "a section, not a value (its keys: \(validKeys(under: prefix).joined(separator: ", ")))")
            }
            contents.values[prefix] = scalar.string
        case .sequence(let items) where Setting.named(prefix)?.repeatable == true:
            contents.values[prefix] = try scalars(items, field: prefix, name: name).joined(separator: String(Setting.listSeparator))
        case .sequence, .alias:
            let reason =
                Setting.named(prefix) != nil
                ? "expected a single value, not a list"
                : "a section, not a list (its keys: \(validKeys(under: prefix).joined(separator: ", ")))"
            throw ConfigError(field: prefix, source: located(name, node), reason: reason)
        }
    }

    /// Every key path a file may hold: the settings', and the structured sections'.
    static let knownPaths: [String] = Setting.all.map(\.key) + [clustersKey, receiversKey, rulesKey]

    /// The keys valid right under `prefix` (`""`: the top level), sorted.
    static func validKeys(under prefix: String) -> [String] {
        let start = prefix.isEmpty ? "" : prefix + "."
        return Set(
            knownPaths.filter { $0.hasPrefix(start) }.compactMap { $0.dropFirst(start.count).split(separator: ".").first.map(String.init) }
        ).sorted()
    }

    /// "unknown key K; did you mean V? (valid here: ...)".
    static func unknown(_ key: String, valid: [String], what: String = "key") -> String {
        let guess = closest(to: key, among: valid).map { "; did you mean \($0)?" } ?? ""
        return "unknown \(what) \(key)\(guess) (valid here: \(valid.joined(separator: ", ")))"
    }

    /// `name, line N` where the node is.
    static func located(_ name: String, _ node: Node) -> String {
        node.mark.map { "\(name), line \($0.line)" } ?? name
    }

    /// The valid key a typo most likely meant: at most 2 edits away (`reciever` → `receivers`, `listen_udp` → `listen-udp`).
    static func closest(to key: String, among valid: [String]) -> String? {
        // A typo is short; a long key (the file may hold anything) is not worth a quadratic comparison.
        guard key.utf8.count <= 64 else { return nil }
        let scored = valid.map { (key: $0, distance: editDistance(Array(key.lowercased()), Array($0.lowercased()))) }
        return scored.filter { $0.distance <= 2 }.min { ($0.distance, $0.key) < ($1.distance, $1.key) }?.key
    }

    /// Edits between two words, a swap of neighbours counting one (`ie` ↔ `ei`).
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var d = Array(repeating: Array(repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { d[i][0] = i }
        for j in 0...b.count { d[0][j] = j }
        for i in stride(from: 1, through: a.count, by: 1) {
            for j in stride(from: 1, through: b.count, by: 1) {
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1) }
            }
        }
        return d[a.count][b.count]
    }
}
