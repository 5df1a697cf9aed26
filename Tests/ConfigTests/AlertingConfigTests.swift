import Alerting
import Testing

@testable import Config

@Suite struct AlertingConfigTests {
    @Test func receiversRulesAndURLsFromTheFile() throws {
        let config = try ConfigLoader.load(flags: [:], environment: [:], file: try fixture("alerting.yml"))
        #expect(config.receivers.map(\.name) == ["ops", "receiver-2", "webhook-1", "webhook-2"])
        let ops = config.receivers[0]
        #expect(ops.url == "https://ops.example/hook")
        #expect(ops.headers == ["X-Team": "storage"])
        #expect(ops.bearerToken == "s3cret")
        #expect(ops.timeout == .seconds(3))
        #expect(!ops.sendResolved)
        #expect(ops.repeatInterval == .seconds(3_600))
        #expect(ops.tlsCAFile == "/etc/beetlewatch/ops-ca.crt")
        #expect(!ops.tlsInsecureSkipVerify)
        #expect(config.receivers[1].basicAuth?.username == "u")
        #expect(config.receivers[1].tlsInsecureSkipVerify)
        #expect(config.receivers[1].tlsCAFile == nil)
        #expect(config.receivers[2].url == "http://hooks.example/a")
        #expect(config.alertmanagerURLs == ["http://am-1:9093"])
        #expect(config.alertRules[.replicaUnreachable] == RuleSettings(forDuration: .seconds(30), severity: .warning))
        #expect(config.alertRules[.clockSkew].threshold == 0.25)
        #expect(config.alertRules[.viewChanged].enabled == false)
        #expect(config.alertRules[.viewChanged].window == .seconds(300))
        #expect(config.alertRules[.replicaHung].keepFiringFor == .seconds(30))
        #expect(config.alertRules[.quorumLost] == AlertRules.defaults[.quorumLost])
        #expect(config.alertRules[.quorumLost].keepFiringFor == .seconds(10))
    }

    @Test func repeatedFlagsAndCommaSeparatedEnvironment() throws {
        let flags = try ConfigLoader.load(
            flags: ["alert.webhook-url": "http://a.example/1\nhttp://b.example/2"], environment: [:], file: nil)
        #expect(flags.webhookURLs == ["http://a.example/1", "http://b.example/2"])
        let env = try ConfigLoader.load(
            flags: [:], environment: ["BEETLEWATCH_ALERTMANAGER_URL": "http://am-1:9093,http://am-2:9093"], file: nil)
        #expect(env.alertmanagerURLs == ["http://am-1:9093", "http://am-2:9093"])
        let single = try ConfigLoader.load(flags: ["alert.webhook-url": "http://only.example/"], environment: [:], file: nil)
        #expect(single.receivers.map(\.name) == ["webhook"])
    }

    @Test func badAlertingValuesNameTheField() throws {
        #expect(loadError(flags: ["alert.webhook-url": "hooks.example"])?.field == "alert.webhook-url")
        #expect(loadError(flags: ["alert.resend-delay": "10ms"])?.reason.contains("from 1s to 1d") == true)
        let rule = loadError(file: try fixture("bad-rule.yml"))
        #expect(rule?.field == "rules.TigerBeetleReplicaUnreachable")
        #expect(rule?.reason.contains("not a duration") == true)
        let receiver = loadError(file: try fixture("bad-receiver.yml"))
        #expect(receiver?.field == "receivers[0]")
        #expect(receiver?.reason.contains("not an http") == true)
        let tls = loadError(
            file: (name: "x.yml", contents: "receivers:\n  - url: https://hooks.example/\n    tls_config: {cert_file: a.crt}\n"))
        #expect(tls?.field == "receivers[0]")
        #expect(tls?.reason.contains("tls_config: unknown key cert_file") == true, "\(tls?.reason ?? "")")
        let unknownRule = loadError(file: (name: "x.yml", contents: "rules:\n  NoSuchAlert: {for: 1m}\n"))
        #expect(unknownRule?.reason.hasPrefix("unknown rule") == true)
    }
}
