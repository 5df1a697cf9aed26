import CCrypt
import Exposition
import Foundation
import Synchronization
import TigerBeetle

/// Basic auth in front of the endpoints, as exporter-toolkit does it: users with bcrypt hashes,
/// some paths exempt (probes), and a cache of credentials that verified, so a scrape every few
/// seconds does not pay bcrypt's ~70 ms each time; and of credentials that failed, so a client repeating a
/// wrong password costs nothing either. A client trying new passwords is throttled per address.
final class BasicAuthGate: HTTPHandler {
    private struct Settings {
        var users: [String: String] = [:]
        var exempt: Set<String> = []
    }

    private let inner: any HTTPHandler
    private let settings = Mutex(Settings())
    private let throttle = Mutex(LoginThrottle())
    /// bcrypt checks under way: one at a time, so a bad-login flood holds at most one of the server's threads
    /// (~70 ms each) and the others keep answering `/health` and verified scrapes.
    private let checking = Atomic<Int>(0)
    static let maxConcurrentChecks = 1
    /// Refused logins, by reason.
    private let failures = Mutex<[AuthFailure: UInt64]>([:])
    private let clock: @Sendable () -> MonotonicInstant
    /// user, password and hash of credentials that verified (bounded; cleared when the users change).
    private let accepted = Mutex<Set<[String]>>([])
    /// The same for credentials that failed: a client repeating a wrong password (a Prometheus job with a
    /// stale password file) is answered 401 at once, costs no bcrypt and does not count towards the
    /// throttle, so it cannot lock out a correct job scraping from the same address.
    private let rejected = Mutex<Set<[String]>>([])
    static let cacheLimit = 1024

    /// An unknown user is checked against this (a hash of a random password) so that
    /// answering takes as long as for a known one: response times do not reveal user names.
    private static let decoyHash = "$2b$10$kyemFKJqqVOU1f8JGmpNS.z6NHmhunAWZ0VmKowt1hl9l9S0p723a"

    /// - Parameter clock: the throttle's time (the monotonic clock).
    init(_ inner: any HTTPHandler, clock: @escaping @Sendable () -> MonotonicInstant) {
        self.inner = inner
        self.clock = clock
    }

    var authFailures: [AuthFailure: UInt64] { failures.withLock { $0 } }

    /// Replaces the users and the exempt paths (on start and on reload). No users: no authentication.
    func update(users: [String: String], exemptPaths: [String]) {
        settings.withLock { $0 = Settings(users: users, exempt: Set(exemptPaths)) }
        accepted.withLock { $0.removeAll() }
        rejected.withLock { $0.removeAll() }
    }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        let current = settings.withLock { $0 }
        if current.users.isEmpty || current.exempt.contains(request.path) { return inner.handle(request) }
        let unauthorized = HTTPResponse(
            status: 401, contentType: "text/plain; charset=utf-8", body: Array("Unauthorized\n".utf8),
            wwwAuthenticate: "Basic realm=\"beetlewatch\", charset=\"UTF-8\"")
        guard let (user, password) = Self.credentials(request.header("Authorization")) else { return unauthorized }
        let hash = current.users[user] ?? Self.decoyHash
        let key = [user, password, hash]
        if accepted.withLock({ $0.contains(key) }) { return inner.handle(request) }
        if rejected.withLock({ $0.contains(key) }) {
            count(.invalidCredentials)
            return unauthorized
        }
        // A check costs bcrypt: not for an address that keeps failing, and one at a time.
        if throttle.withLock({ $0.isThrottled(request.client, now: clock()) }) {
            count(.throttled)
            return HTTPResponse(status: 429, text: "Too Many Requests: too many failed logins from this address; try again in 10 s\n")
        }
        guard checking.add(1, ordering: .acquiring).newValue <= Self.maxConcurrentChecks else {
            checking.subtract(1, ordering: .releasing)
            count(.busy)
            return HTTPResponse(status: 429, text: "Too Many Requests: another login is being checked; try again\n")
        }
        let verified = verify(key, password: password, hash: hash, known: current.users[user] != nil)
        checking.subtract(1, ordering: .releasing)
        if verified {
            throttle.withLock { $0.recordSuccess(request.client) }
            return inner.handle(request)
        }
        throttle.withLock { $0.recordFailure(request.client, now: clock()) }
        count(.invalidCredentials)
        return unauthorized
    }

    private func count(_ reason: AuthFailure) {
        failures.withLock { $0[reason, default: 0] += 1 }
    }

    private func verify(_ key: [String], password: String, hash: String, known: Bool) -> Bool {
        let matches = bw_crypt_verify(password, hash) == 1 && known
        if matches {
            accepted.withLock { Self.remember(key, in: &$0) }
        } else {
            rejected.withLock { Self.remember(key, in: &$0) }
        }
        return matches
    }

    /// Adds `key` to a bounded cache (emptied when full).
    private static func remember(_ key: [String], in cache: inout Set<[String]>) {
        if cache.count >= cacheLimit { cache.removeAll() }
        cache.insert(key)
    }

    /// `Basic base64(user:password)` → (user, password); nil when absent or malformed.
    static func credentials(_ header: String?) -> (String, String)? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
}
