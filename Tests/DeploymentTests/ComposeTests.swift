import Foundation
import TestSupport
import Testing
import Yams

/// Runs a command in the repository, returning its exit status and output.
func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let result = try Command.run(executable, arguments, directory: Fixtures.repositoryRoot)
    return (result.status, result.stdout + result.stderr)
}

let dockerCompose = "/usr/bin/docker-compose"

enum Variant: String, CaseIterable, Sendable {
    case single = "docker-compose.yml"
    case threeReplicas = "docker-compose.yml + docker-compose.three-replicas.yml"

    var files: [String] {
        switch self {
        case .single: ["-f", "docker-compose.yml"]
        case .threeReplicas: ["-f", "docker-compose.yml", "-f", "docker-compose.three-replicas.yml"]
        }
    }

    var replicas: Int { self == .single ? 1 : 3 }
}

/// The merged configuration, as `docker-compose config` resolves it.
func composeConfig(_ variant: Variant, profiles: [String] = ["monitoring", "demo"]) throws -> [String: Any] {
    let result = try run(dockerCompose, variant.files + profiles.flatMap { ["--profile", $0] } + ["config"])
    guard result.status == 0 else { throw ComposeError(output: result.output) }
    return try #require(try Yams.load(yaml: result.output) as? [String: Any])
}

struct ComposeError: Error { var output: String }

/// `a.b.c` into nested dictionaries.
func value(_ object: Any?, _ path: String) -> Any? {
    path.split(separator: ".").reduce(object) { ($0 as? [String: Any])?[String($1)] }
}

func ipv4(_ text: String) -> UInt32? {
    let parts = text.split(separator: ".").compactMap { UInt32($0) }
    guard parts.count == 4, parts.allSatisfy({ $0 < 256 }) else { return nil }
    return parts.reduce(0) { $0 << 8 | $1 }
}

func inSubnet(_ address: String, _ subnet: String) -> Bool {
    let pieces = subnet.split(separator: "/")
    guard pieces.count == 2, let base = ipv4(String(pieces[0])), let bits = UInt32(pieces[1]), let ip = ipv4(address) else { return false }
    let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
    return ip & mask == base & mask
}

@Suite(.timeLimit(.minutes(2)), .tags(.endToEnd)) struct ComposeTests {
    @Test(arguments: Variant.allCases)
    func dockerComposeAcceptsEveryProfileCombination(_ variant: Variant) throws {
        for profiles in [[], ["monitoring"], ["demo"], ["monitoring", "demo"]] {
            let result = try run(dockerCompose, variant.files + profiles.flatMap { ["--profile", $0] } + ["config", "-q"])
            #expect(result.status == 0, "\(variant.rawValue) \(profiles): \(result.output)")
        }
    }

    @Test(arguments: Variant.allCases)
    func tigerBeetleAndBeetlewatchAreWiredTogether(_ variant: Variant) throws {
        let config = try composeConfig(variant)
        let services = try #require(config["services"] as? [String: [String: Any]])
        let subnet = try #require((value(config, "networks.tigerbeetle.ipam.config") as? [[String: Any]])?.first?["subnet"] as? String)
        let beetlewatch = try #require(services["beetlewatch"])
        let beetlewatchIP = try #require(value(beetlewatch, "networks.tigerbeetle.ipv4_address") as? String)
        #expect(inSubnet(beetlewatchIP, subnet))

        let replicas = services.filter { ($0.value["image"] as? String)?.contains("tigerbeetle/tigerbeetle") == true }
            .map { (name: $0.key, service: $0.value) }
            .sorted {
                Int(value($0.service, "environment.TB_REPLICA") as! String)! < Int(value($1.service, "environment.TB_REPLICA") as! String)!
            }
        #expect(replicas.count == variant.replicas)
        let addresses = try #require(value(replicas[0].service, "environment.TB_ADDRESSES") as? String)
        let cluster = try #require(value(replicas[0].service, "environment.TB_CLUSTER") as? String)
        var volumes = Set<String>()
        for (index, replica) in replicas.enumerated() {
            let env = try #require(replica.service["environment"] as? [String: String])
            // --statsd is beetlewatch's fixed IP (TigerBeetle takes no names).
            #expect(env["TB_STATSD"] == "\(beetlewatchIP):8125", "\(replica.name)")
            #expect(env["TB_REPLICA"] == String(index))
            #expect(env["TB_REPLICA_COUNT"] == String(variant.replicas))
            #expect(env["TB_ADDRESSES"] == addresses)
            #expect(env["TB_CLUSTER"] == cluster)
            let ip = try #require(value(replica.service, "networks.tigerbeetle.ipv4_address") as? String)
            #expect(inSubnet(ip, subnet))
            #expect(addresses.split(separator: ",")[index].hasPrefix("\(ip):"), "replica \(index) listens on its own address")
            // A named volume mounted at the data path.
            let mounts = try #require(replica.service["volumes"] as? [String])
            let data = try #require(mounts.first { $0.split(separator: ":").dropFirst().first == "/data" })
            let volume = String(data.split(separator: ":")[0])
            #expect(!volume.hasPrefix("/") && !volume.hasPrefix("."), "\(replica.name): \(volume) is not a named volume")
            #expect((config["volumes"] as? [String: Any])?.keys.contains(volume) == true)
            volumes.insert(volume)
            // Format only when the data file does not exist yet.
            let script = try #require((replica.service["command"] as? [String])?.joined())
            let guardRange = try #require(script.range(of: "if [ ! -e \"$$file\" ]; then"))
            let formatRange = try #require(script.range(of: "/tigerbeetle format"))
            #expect(guardRange.upperBound <= formatRange.lowerBound)
            #expect(script.contains("--statsd=\"$$TB_STATSD\"") && script.contains("--experimental"))
            #expect((replica.service["security_opt"] as? [String])?.contains("seccomp=unconfined") == true)
            #expect(replica.service["ports"] == nil, "\(replica.name) publishes its client port")
        }
        #expect(volumes.count == replicas.count)

        // beetlewatch watches exactly those replicas.
        let command = try #require(beetlewatch["command"] as? [String])
        #expect(command.contains("--tigerbeetle.addresses=\(addresses)"))
        #expect(command.contains("--tigerbeetle.cluster=\(cluster)"))
        #expect(value(beetlewatch, "healthcheck.test") as? [String] == ["CMD", "beetlewatch", "check", "--live"])
        #expect(beetlewatch["restart"] as? String == "unless-stopped")

        // Whoever depends on beetlewatch waits for it to be up (its liveness healthcheck), not merely started.
        var gated = 0
        for (name, service) in services {
            guard let dependency = value(service, "depends_on.beetlewatch") as? [String: Any] else { continue }
            #expect(dependency["condition"] as? String == "service_healthy", "\(name)")
            gated += 1
        }
        #expect(gated >= 2)
        // Applications wait for quorum: wait-for-quorum asks beetlewatch's /ready until it holds.
        let wait = try #require(services["wait-for-quorum"])
        #expect(wait["command"] as? [String] == ["check", "--url", "http://beetlewatch:9917", "--wait", "600"])
        #expect(value(services["example-app"], "depends_on.wait-for-quorum.condition") as? String == "service_completed_successfully")
        #expect((value(services["example-app"], "profiles") as? [String]) == ["demo"])
        for name in ["prometheus", "alertmanager", "grafana"] {
            #expect((value(services[name], "profiles") as? [String]) == ["monitoring"], "\(name)")
        }
    }

    @Test func provisioningPathsExistInTheRepository() throws {
        let config = try composeConfig(.single)
        let services = try #require(config["services"] as? [String: [String: Any]])
        var checked = 0
        for name in ["prometheus", "alertmanager", "grafana"] {
            for mount in (services[name]?["volumes"] as? [String]) ?? [] where mount.hasPrefix("/") {
                let host = String(mount.split(separator: ":")[0])
                #expect(FileManager.default.fileExists(atPath: host), "\(name): \(host)")
                checked += 1
            }
        }
        #expect(checked == 4)
        for file in [
            "prometheus/prometheus.yml", "prometheus/alerts.yml", "alertmanager/alertmanager.yml",
            "grafana/provisioning/datasources/prometheus.yml", "grafana/provisioning/dashboards/beetlewatch.yml",
            "grafana/dashboards/tigerbeetle.json",
        ] {
            #expect(FileManager.default.fileExists(atPath: Fixtures.repositoryRoot.appendingPathComponent(file).path), "\(file)")
        }
    }

    @Test func envExampleDocumentsEveryVariable() throws {
        let root = Fixtures.repositoryRoot
        let example = try String(contentsOf: root.appendingPathComponent(".env.example"), encoding: .utf8)
        let documented = Set(
            example.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { $0.split(separator: "=").first.map(String.init) })
        var used = Set<String>()
        for file in ["docker-compose.yml", "docker-compose.three-replicas.yml"] {
            // `$${X}` is the container's own variable, escaped for compose: not a compose variable.
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8).replacingOccurrences(of: "$${", with: "")
            let regex = try Regex("\\$\\{([A-Z_]+)")
            for match in text.matches(of: regex) { used.insert(String(match.output[1].substring!)) }
        }
        #expect(used.subtracting(documented).isEmpty, "undocumented: \(used.subtracting(documented).sorted())")
        for variable in ["TIGERBEETLE_CLUSTER_ID", "TIGERBEETLE_REPLICA_COUNT", "TIGERBEETLE_PORT", "TIGERBEETLE_IMAGE"] {
            #expect(documented.contains(variable))
        }
    }

    @Test func dockerfileBuildsStaticallyAndRunsAsNonRoot() throws {
        let root = Fixtures.repositoryRoot
        let dockerfile = try String(contentsOf: root.appendingPathComponent("Dockerfile"), encoding: .utf8)
        let stages = dockerfile.split(separator: "\n").filter { $0.hasPrefix("FROM ") }
        #expect(stages.count == 2)
        #expect(stages.first?.contains("swift:") == true)
        #expect(dockerfile.contains("--static-swift-stdlib") && dockerfile.contains("-c release"))
        #expect(dockerfile.contains("libmicrohttpd12"))
        #expect(dockerfile.contains("USER 10001"))
        // Liveness: an orchestrator must not restart the monitor because TigerBeetle is down.
        #expect(dockerfile.contains("HEALTHCHECK") && dockerfile.contains("CMD [\"beetlewatch\", \"check\", \"--live\"]"))
        #expect(!dockerfile.lowercased().contains("curl"), "nothing links libcurl")
        #expect(dockerfile.contains("EXPOSE 8125/udp 9917"))
        let ignore = try String(contentsOf: root.appendingPathComponent(".dockerignore"), encoding: .utf8)
        #expect(ignore.split(separator: "\n").contains(".build"))
    }

    /// Prometheus, Alertmanager and Grafana are what an operator needs during an outage: none of them may wait,
    /// directly or through another service, on a gate that means quorum (a healthcheck or a one-shot running
    /// `beetlewatch check` without `--live`).
    @Test(arguments: Variant.allCases)
    func noMonitoringServiceDependsOnQuorum(_ variant: Variant) throws {
        let services = try #require(try composeConfig(variant)["services"] as? [String: [String: Any]])
        func isQuorumGate(_ name: String) -> Bool {
            let service = services[name] ?? [:]
            let asks = [(value(service, "healthcheck.test") as? [String]) ?? [], (service["command"] as? [String]) ?? []]
            return asks.contains { $0.contains("check") && !$0.contains("--live") }
        }
        for monitoring in ["prometheus", "alertmanager", "grafana"] {
            var seen: Set<String> = []
            var pending = [monitoring]
            while let name = pending.popLast() {
                for (dependency, _) in (services[name]?["depends_on"] as? [String: Any]) ?? [:] where seen.insert(dependency).inserted {
                    #expect(!isQuorumGate(dependency), "\(monitoring) waits on quorum through \(name) → \(dependency)")
                    pending.append(dependency)
                }
            }
        }
        // The check can tell: the quorum gate exists, and an application waits on it.
        #expect(isQuorumGate("wait-for-quorum"))
    }
}
