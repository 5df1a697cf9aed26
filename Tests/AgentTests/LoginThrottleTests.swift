import Testing

@testable import Agent

/// The per-address limit on failed logins, on virtual time.
@Suite struct LoginThrottleTests {
    let second: Int64 = 1_000_000_000

    @Test func fiveFailuresThrottleTheAddressForTheRestOfItsWindow() {
        var throttle = LoginThrottle()
        for i in 0..<5 {
            #expect(!throttle.isThrottled("10.0.0.1", now: Int64(i) * second))
            throttle.recordFailure("10.0.0.1", now: Int64(i) * second)
        }
        #expect(throttle.isThrottled("10.0.0.1", now: 5 * second))
        #expect(throttle.isThrottled("10.0.0.1", now: 10 * second - 1))
        #expect(!throttle.isThrottled("10.0.0.2", now: 5 * second), "another address is not")
        // The window started at the first failure: 10 s later the address may try again.
        #expect(!throttle.isThrottled("10.0.0.1", now: 10 * second))
        throttle.recordFailure("10.0.0.1", now: 10 * second)
        #expect(!throttle.isThrottled("10.0.0.1", now: 10 * second))
    }

    @Test func aSuccessClearsTheAddress() {
        var throttle = LoginThrottle()
        for _ in 0..<4 { throttle.recordFailure("10.0.0.1", now: 0) }
        throttle.recordSuccess("10.0.0.1")
        throttle.recordFailure("10.0.0.1", now: 0)
        #expect(!throttle.isThrottled("10.0.0.1", now: 0))
    }

    /// Memory stays bounded whatever the number of attacking addresses.
    @Test func rememberedAddressesAreBounded() {
        var throttle = LoginThrottle(maxAddresses: 100)
        for i in 0..<1000 { throttle.recordFailure("10.0.\(i / 256).\(i % 256)", now: Int64(i)) }
        #expect(throttle.trackedAddresses <= 100)
        // Expired entries go first: after the window, only new ones remain.
        throttle.recordFailure("10.9.9.9", now: 20 * second)
        #expect(throttle.trackedAddresses <= 100)
    }
}
