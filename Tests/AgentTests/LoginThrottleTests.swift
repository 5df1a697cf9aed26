import TestSupport
import Testing
import TigerBeetle

@testable import Agent

/// The per-address limit on failed logins, on virtual time.
@Suite struct LoginThrottleTests {
    @Test func fiveFailuresThrottleTheAddressForTheRestOfItsWindow() {
        var throttle = LoginThrottle()
        for i in 0..<5 {
            #expect(!throttle.isThrottled("10.0.0.1", now: .seconds(i)))
            throttle.recordFailure("10.0.0.1", now: .seconds(i))
        }
        #expect(throttle.isThrottled("10.0.0.1", now: .seconds(5)))
        #expect(throttle.isThrottled("10.0.0.1", now: .seconds(10) - .nanoseconds(1)))
        #expect(!throttle.isThrottled("10.0.0.2", now: .seconds(5)), "another address is not")
        // The window started at the first failure: 10 s later the address may try again.
        #expect(!throttle.isThrottled("10.0.0.1", now: .seconds(10)))
        throttle.recordFailure("10.0.0.1", now: .seconds(10))
        #expect(!throttle.isThrottled("10.0.0.1", now: .seconds(10)))
    }

    @Test func aSuccessClearsTheAddress() {
        var throttle = LoginThrottle()
        for _ in 0..<4 { throttle.recordFailure("10.0.0.1", now: .zero) }
        throttle.recordSuccess("10.0.0.1")
        throttle.recordFailure("10.0.0.1", now: .zero)
        #expect(!throttle.isThrottled("10.0.0.1", now: .zero))
    }

    /// Memory stays bounded whatever the number of attacking addresses.
    @Test func rememberedAddressesAreBounded() {
        var throttle = LoginThrottle(maxAddresses: 100)
        for i in 0..<1000 { throttle.recordFailure("10.0.\(i / 256).\(i % 256)", now: .zero + .nanoseconds(i)) }
        #expect(throttle.trackedAddresses <= 100)
        // Expired entries go first: after the window, only new ones remain.
        throttle.recordFailure("10.9.9.9", now: .seconds(20))
        #expect(throttle.trackedAddresses <= 100)
    }
}
