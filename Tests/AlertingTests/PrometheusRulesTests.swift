import Foundation
import TestSupport
import Testing

@testable import Alerting

/// prometheus/alerts.yml says what the built-in rules say, and Prometheus's own tools accept it.
@Suite struct PrometheusRulesTests {
    let root = Fixtures.repositoryRoot

    struct Rule {
        var name = "", expression = "", forDuration = "", keepFiringFor = "0s", severity = ""
    }

    /// Each rule in alerts.yml's `tigerbeetle` group, read line by line.
    func rules() throws -> [Rule] {
        let text = try String(contentsOf: root.appendingPathComponent("prometheus/alerts.yml"), encoding: .utf8)
        var out: [Rule] = []
        var rule = Rule()
        var inExpression = false
        let tigerBeetleGroup = text.components(separatedBy: "- name: beetlewatch\n")[0]
        for line in tigerBeetleGroup.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("- alert: ") { rule = Rule(name: String(line.dropFirst(9))) }
            if line.hasPrefix("expr: ") {
                rule.expression = String(line.dropFirst(6))
                inExpression = true
                continue
            }
            if line.hasPrefix("for: ") {
                inExpression = false
                rule.forDuration = String(line.dropFirst(5))
            }
            if inExpression { rule.expression += "\n" + line }
            if line.hasPrefix("keep_firing_for: ") { rule.keepFiringFor = String(line.dropFirst(17)) }
            if line.hasPrefix("severity: ") {
                rule.severity = String(line.dropFirst(10))
                out.append(rule)
            }
        }
        return out
    }

    static func duration(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        return seconds >= 60 && seconds % 60 == 0 ? "\(seconds / 60)m" : "\(seconds)s"
    }

    @Test func sameNamesSeveritiesAndDurationsAsTheBuiltInRules() throws {
        let rules = try rules()
        #expect(rules.map(\.name).sorted() == AlertName.allCases.map(\.rawValue).sorted())
        for rule in rules {
            let builtIn = AlertRules.defaults[AlertName(rawValue: rule.name)!]!
            #expect(rule.severity == builtIn.severity.rawValue, "\(rule.name)")
            #expect(rule.forDuration == Self.duration(builtIn.forDuration), "\(rule.name)")
            #expect(rule.keepFiringFor == Self.duration(builtIn.keepFiringFor), "\(rule.name)")
            // Standing down while the beetlewatch it reads pushes to Alertmanager itself (docs/alerts.md).
            #expect(
                rule.expression.hasSuffix("unless on (instance, job) beetlewatch_alertmanagers > 0"), "\(rule.name): \(rule.expression)")
        }
    }

    @Test func promtoolChecksAndUnitTestsTheRules() throws {
        let check = try Promtool.run(["check", "rules", root.appendingPathComponent("prometheus/alerts.yml").path])
        #expect(check.status == 0, "\(check.output)")
        #expect(
            check.output.contains("SUCCESS: \(AlertName.allCases.count + 3) rules found"),
            "the TigerBeetle rules and 3 about beetlewatch itself")
        let unit = try Promtool.run(["test", "rules", root.appendingPathComponent("prometheus/alerts_test.yml").path])
        #expect(unit.status == 0, "\(unit.output)")
        #expect(unit.output.contains("SUCCESS"))
        for file in ["prometheus/prometheus.yml", "prometheus/prometheus-fleet.yml"] {
            let config = try Promtool.run(["check", "config", root.appendingPathComponent(file).path])
            #expect(config.status == 0, "\(file): \(config.output)")
        }
    }

    @Test func everyRuleIsUnitTestedFiringAndNotFiring() throws {
        let text = try String(contentsOf: root.appendingPathComponent("prometheus/alerts_test.yml"), encoding: .utf8)
        for name in AlertName.allCases.map(\.rawValue) + [
            "BeetlewatchConfigReloadFailed", "BeetlewatchDown", "BeetlewatchNotificationsFailing",
        ] {
            #expect(text.contains("alertname: \(name)\n    exp_alerts: []"), "\(name) never tested not firing")
            #expect(text.contains("alertname: \(name)\n    exp_alerts:\n"), "\(name) never tested firing")
        }
    }

    @Test func amtoolAcceptsTheAlertmanagerConfig() throws {
        let amtool = try #require(["/usr/bin/amtool"].first { FileManager.default.isExecutableFile(atPath: $0) }, "amtool not installed")
        let check = try Command.run(amtool, ["check-config", root.appendingPathComponent("alertmanager/alertmanager.yml").path])
        #expect(check.status == 0)
    }
}
