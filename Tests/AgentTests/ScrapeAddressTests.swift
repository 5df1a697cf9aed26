import Testing

@testable import Agent

/// The `Host` header a service-discovery request names beetlewatch by: client text, checked before it becomes targets.
@Suite struct ScrapeAddressTests {
    @Test(arguments: [
        "beetlewatch", "beetlewatch:9917", "monitoring.example.com:9917", "node_1.internal", "10.0.0.5:9917", "127.0.0.1",
        "[::1]:9917", "[fd00::5]", "[::ffff:10.0.0.5]:80", "a:1", "host:65535",
    ])
    func anAddressATargetCanNameIsKept(_ host: String) {
        #expect(ScrapeAddress.parse(host) == .success(host))
    }

    @Test(arguments: [
        ("", "empty"), (String(repeating: "a", count: 300), "longer than 259 bytes"), ("[::1", "no closing bracket"),
        ("[::1]x", "other than a port"), ("[nothex::1]:80", "not an IPv6 address"), ("[fe80::1%eth0]", "not an IPv6 address"),
        ("::1", "not in brackets"), ("host:0", "port"), ("host:65536", "port"), ("host:", "port"), ("host:99999999", "port"),
        ("host:9917/metrics", "port"), ("10.0.0.256", "neither"), ("1.2.3", "neither"), ("-host", "neither"), ("a..b", "neither"),
        ("host name", "neither"), ("evil\"}],\"x", "neither"), ("höst", "neither"), ("user@host:80", "neither"),
        (String(repeating: "a", count: 64) + ".com", "neither"),
    ])
    func anythingElseIsRefusedWithTheReason(_ host: String, _ reason: String) throws {
        guard case .failure(let refusal) = ScrapeAddress.parse(host) else {
            Issue.record("\(host) was accepted")
            return
        }
        #expect(refusal.description.contains(reason), "\(host): \(refusal)")
    }
}
