import TigerBeetle

// libFuzzer target: the configuration loader (YAML file, flags, environment) and the web config file.
// Whatever the bytes, loading ends in a configuration or a ConfigError naming a field; a loaded
// configuration's every duration lies within its documented range, and the arithmetic the agent does
// with it (deadlines, Alertmanager lifetimes, TTL checks) cannot overflow. Any trap is a crash.
// Built by Fuzz/run with -sanitize=fuzzer,address from the Config sources, the pure modules it uses, and Yams.

/// The input's first byte picks where the rest goes; `key=value` lines feed flags and the environment.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data + 1, count: size - 1), as: UTF8.self)
    var flags: [String: String] = [:]
    var environment: [String: String] = [:]
    var file: (name: String, contents: String)?
    switch data[0] % 4 {
    case 0:
        file = ("fuzz.yml", text)
    case 1, 2:
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            if data[0] % 4 == 1 {
                flags[String(parts[0]), default: ""] += (flags[String(parts[0])] == nil ? "" : "\n") + parts[1]
            } else {
                environment["BEETLEWATCH_" + parts[0].uppercased()] = String(parts[1])
            }
        }
    default:
        _ = try? WebConfig.parse(yaml: text, name: "web.yml", directory: "/nonexistent")
        return 0
    }
    let config: AgentConfig
    do {
        config = try ConfigLoader.load(flags: flags, environment: environment, file: file)
    } catch {
        precondition(!error.field.isEmpty && !error.reason.isEmpty)
        return 0
    }
    precondition(config.statsdTTL == .zero || Setting.Ranges.ttl.contains(config.statsdTTL))
    precondition(Setting.Ranges.staleAfter.contains(config.statsdStaleAfter))
    precondition(Setting.Ranges.probeInterval.contains(config.probeInterval))
    precondition(Setting.Ranges.probeTimeout.contains(config.probeTimeout))
    precondition(Setting.Ranges.resendDelay.contains(config.alertResendDelay))
    precondition(Setting.Ranges.shutdownTimeout.contains(config.shutdownTimeout))
    // What the agent computes from them, from a clock reading far in the future (year 2200): exact, never saturated
    // (instants saturate rather than trap, so a setting that would saturate one is what to find).
    let now = WallInstant(nanosecondsSinceEpoch: 7_258_118_400_000_000_000)
    func exact(_ duration: Duration) { precondition((now + duration) - now == duration, "\(duration) from \(now) saturates") }
    exact(config.probeInterval + config.probeTimeout + config.shutdownTimeout)
    exact(config.alertResendDelay * 4)
    exact(.zero - config.statsdTTL - config.statsdStaleAfter)
    for receiver in config.receivers {
        exact(receiver.timeout + receiver.repeatInterval)
        precondition(isCheckedURL(receiver.url))
    }
    for rule in AlertName.allCases {
        let settings = config.alertRules[rule]
        exact(settings.forDuration + (settings.window ?? .zero))
    }
    for url in config.alertmanagerURLs { precondition(isCheckedURL(url)) }
    precondition(config.watchedClusters.allSatisfy { (1...6).contains($0.addresses.count) && $0.id.utf8.count == 32 })
    _ = config.alertsOnUnwatchedClusters
    _ = config.restartOnlyChanges(comparedTo: AgentConfig())
    return 0
}

/// Every URL the agent will connect to parses with a host and a port in range (AlertLoop unwraps it).
func isCheckedURL(_ text: String) -> Bool {
    (try? ValueParsers.url(text)) == text
}
