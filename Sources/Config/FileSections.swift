import Alerting
import TigerBeetle
import Yams

/// The config file's structured sections: `receivers:` and `rules:`.
enum FileSections {
    static func receivers(_ node: Node, name: String) throws(ConfigError) -> [WebhookReceiverConfig] {
        guard case .sequence(let items) = node else {
            throw ConfigError(field: ConfigLoader.receiversKey, source: name, reason: "expected a list of {name, url, ...}")
        }
        var receivers: [WebhookReceiverConfig] = []
        for (i, item) in items.enumerated() {
            let field = "\(ConfigLoader.receiversKey)[\(i)]"
            guard case .mapping(let mapping) = item else {
                throw ConfigError(
                    field: field, source: name,
                    reason: "expected {name, url, headers, bearer_token, basic_auth, tls_config, timeout, send_resolved, repeat_interval}")
            }
            func text(_ key: String) -> String? { mapping[key]?.string }
            let known: Set<String> = [
                "name", "url", "headers", "bearer_token", "basic_auth", "tls_config", "timeout", "send_resolved", "repeat_interval",
            ]
            for key in mapping.keys where !known.contains(key.string ?? "") {
                throw ConfigError(
                    field: "\(field).\(key.string ?? "?")", source: ConfigLoader.located(name, key),
                    reason: ConfigLoader.unknown(key.string ?? "?", valid: known.sorted()))
            }
            guard let url = text("url") else { throw ConfigError(field: "\(field).url", source: name, reason: "missing") }
            do throws(ReasonError) {
                guard let parsed = try Setting.urls(url).first else { throw ReasonError("missing") }
                var receiver = WebhookReceiverConfig(name: text("name") ?? "receiver-\(i + 1)", url: parsed)
                if receivers.contains(where: { $0.name == receiver.name }) { throw ReasonError("the name \(receiver.name) is used twice") }
                if case .mapping(let headers)? = mapping["headers"] {
                    for (key, value) in headers { receiver.headers[key.string ?? ""] = value.string ?? "" }
                }
                receiver.bearerToken = text("bearer_token")
                if case .mapping(let auth)? = mapping["basic_auth"] {
                    guard let user = auth["username"]?.string, let password = auth["password"]?.string else {
                        throw ReasonError("basic_auth needs username and password")
                    }
                    receiver.basicAuth = (user, password)
                }
                if case .mapping(let tls)? = mapping["tls_config"] {
                    for key in tls.keys where key.string != "ca_file" && key.string != "insecure_skip_verify" {
                        throw ReasonError("tls_config: unknown key \(key.string ?? "?") (ca_file, insecure_skip_verify)")
                    }
                    receiver.tlsCAFile = tls["ca_file"]?.string
                    if let skip = tls["insecure_skip_verify"]?.string {
                        receiver.tlsInsecureSkipVerify = try ValueParsers.choice(skip, [("true", true), ("false", false)])
                    }
                }
                if receiver.bearerToken != nil && receiver.basicAuth != nil {
                    throw ReasonError("bearer_token and basic_auth exclude each other")
                }
                if let timeout = text("timeout") {
                    receiver.timeout = try ValueParsers.duration(timeout, in: Setting.Ranges.receiverTimeout)
                }
                if let interval = text("repeat_interval") {
                    receiver.repeatInterval = try ValueParsers.duration(interval, in: Setting.Ranges.repeatInterval)
                }
                if let resolved = text("send_resolved") {
                    receiver.sendResolved = try ValueParsers.choice(resolved, [("true", true), ("false", false)])
                }
                receivers.append(receiver)
            } catch {
                throw ConfigError(field: field, source: name, reason: error.reason)
            }
        }
        return receivers
    }

    static func rules(_ node: Node, name: String) throws(ConfigError) -> AlertRules {
        guard case .mapping(let mapping) = node else {
            throw ConfigError(
                field: ConfigLoader.rulesKey, source: name,
                reason: "expected a mapping of rule name → {for, keep_firing_for, severity, enabled, threshold, window}")
        }
        var rules = AlertRules()
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? "?"
            let field = "\(ConfigLoader.rulesKey).\(key)"
            guard let alert = AlertName(rawValue: key) else {
                throw ConfigError(
                    field: field, source: ConfigLoader.located(name, keyNode),
                    reason: ConfigLoader.unknown(key, valid: AlertName.allCases.map(\.rawValue).sorted(), what: "rule"))
            }
            guard case .mapping(let options) = value else {
                throw ConfigError(
                    field: field, source: name, reason: "expected {for, keep_firing_for, severity, enabled, threshold, window}")
            }
            var settings = rules[alert]
            let validOptions =
                ["enabled", "for", "keep_firing_for", "severity"] + (alert == .clockSkew ? ["threshold"] : [])
                + (alert == .viewChanged ? ["window"] : [])
            for (optionNode, _) in options where !validOptions.contains(optionNode.string ?? "") {
                throw ConfigError(
                    field: "\(field).\(optionNode.string ?? "?")", source: ConfigLoader.located(name, optionNode),
                    reason: ConfigLoader.unknown(optionNode.string ?? "?", valid: validOptions.sorted(), what: "option"))
            }
            do throws(ReasonError) {
                for (optionNode, optionValue) in options {
                    let option = optionNode.string ?? "?"
                    let text = optionValue.string ?? ""
                    switch option {
                    case "for": settings.forDuration = try ValueParsers.duration(text, in: Setting.Ranges.ruleFor)
                    case "severity": settings.severity = try ValueParsers.choice(text, Severity.allCases.map { ($0.rawValue, $0) })
                    case "enabled": settings.enabled = try ValueParsers.choice(text, [("true", true), ("false", false)])
                    case "threshold" where alert == .clockSkew:
                        settings.threshold =
                            Double(try ValueParsers.duration(text, in: Setting.Ranges.clockSkewThreshold).nanoseconds) / 1e9
                    case "window" where alert == .viewChanged:
                        settings.window = try ValueParsers.duration(text, in: Setting.Ranges.viewChangeWindow)
                    case "keep_firing_for": settings.keepFiringFor = try ValueParsers.duration(text, in: Setting.Ranges.ruleFor)
                    default:
                        throw ReasonError(
                            "unknown option \(option) (for, keep_firing_for, severity, enabled\(alert == .clockSkew ? ", threshold" : alert == .viewChanged ? ", window" : ""))"
                        )
                    }
                }
            } catch {
                throw ConfigError(field: field, source: name, reason: error.reason)
            }
            rules.settings[alert] = settings
        }
        return rules
    }
}
