import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// A blocking HTTP POST for the notification threads: our own client for http://, URLSession for https://.
enum HTTPPost {
    struct Outcome {
        /// The status code, or nil when no response came (connection error, timeout).
        var status: Int?
        var error: String?
    }

    private final class Box: Sendable {
        let outcome = Mutex(Outcome(status: nil, error: "no answer"))
    }

    static func send(_ body: Data, to url: URL, headers: [String: String], timeout: Double, session: URLSession?) -> Outcome {
        // Plain HTTP goes through our own client; URLSession (for TLS) crashes the process when a
        // server closes mid-response, a risk kept to https:// receivers until TLS has its own client.
        guard url.scheme != "http", let session else {
            return PlainHTTPClient.post(body, to: url, headers: headers, timeout: timeout)
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = body
        request.timeoutInterval = timeout
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("beetlewatch/\(Agent.version)", forHTTPHeaderField: "User-Agent")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { _, response, error in
            let status = (response as? HTTPURLResponse)?.statusCode
            box.outcome.withLock { $0 = Outcome(status: status, error: status == nil ? (error?.localizedDescription ?? "no response") : nil) }
            done.signal()
        }
        task.resume()
        if done.wait(timeout: .now() + timeout + 1) == .timedOut {
            task.cancel()
            return Outcome(status: nil, error: "timed out after \(timeout)s")
        }
        return box.outcome.withLock { $0 }
    }
}
