import Foundation
import Logging
import Synchronization
import TestSupport
import Testing
import TigerBeetle

@testable import Agent

/// An HTTPS webhook receiver: beetlewatch's own libmicrohttpd server with TLS, recording what reaches it.
final class TLSReceiver: HTTPHandler {
    private let requests = Mutex<[(method: String, path: String, authorization: String?)]>([])
    let server: HTTPServer

    init(_ certificate: TestCertificate, port: UInt16 = 0) throws {
        let material = try TLSMaterial(
            certificatePEM: String(contentsOfFile: certificate.certificatePath, encoding: .utf8),
            keyPEM: String(contentsOfFile: certificate.keyPath, encoding: .utf8), priorities: "NORMAL")
        let handler = Handler()
        server = try HTTPServer(address: .init(host: "127.0.0.1", port: port), handler: handler, tls: material, clock: SystemClock())
        handler.owner.withLock { $0 = self }
    }

    private final class Handler: HTTPHandler {
        let owner = Mutex<TLSReceiver?>(nil)
        func handle(_ request: HTTPRequest) -> HTTPResponse {
            owner.withLock { $0 }?.handle(request) ?? HTTPResponse(status: 503, text: "")
        }
    }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        requests.withLock { $0.append((request.method, request.path, request.header("Authorization"))) }
        return HTTPResponse(status: 200, text: "ok\n")
    }

    var received: [(method: String, path: String, authorization: String?)] { requests.withLock { $0 } }

    func stop() { server.stop() }
}

/// `openssl s_server` answering half a response and closing: the fault that made URLSession kill the process.
final class HalfAnsweringTLSServer {
    let process: TestProcess
    private let input = Pipe()
    private let output = Pipe()
    let port = LoopbackListener.closedPort()

    init(_ certificate: TestCertificate) throws {
        process = TestProcess(
            "/usr/bin/openssl",
            [
                "s_server", "-accept", "127.0.0.1:\(port)", "-cert", certificate.certificatePath,
                "-key", certificate.keyPath, "-naccept", "1",
            ])
        process.process.standardInput = input
        process.process.standardOutput = output
        process.process.standardError = FileHandle.nullDevice
        try process.start()
        try waitFor("ACCEPT")
    }

    /// Reads the server's output until `text` appears.
    func waitFor(_ text: String) throws {
        var seen = ""
        while !seen.contains(text) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw CommandFailure("openssl s_server ended before \(text): \(seen)") }
            seen += String(decoding: chunk, as: UTF8.self)
        }
    }

    /// Once the request is in: the start of a response, then the connection closes.
    func answerHalfAndClose() throws {
        try waitFor("Content-Length")
        input.fileHandleForWriting.write(Data("HTTP/1.1 200 OK\r\nContent-Le".utf8))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

@Suite(.serialized, .timeLimit(.minutes(1)), .tags(.endToEnd)) struct HTTPSReceiverTests {
    @Test func postsOverTLSVerifyingTheCertificate() throws {
        let certificate = try TestCertificate.make()
        defer { certificate.remove() }
        let receiver = try TLSReceiver(certificate)
        defer { receiver.stop() }
        let trusted = ClientConnection.TLSOptions(caFile: certificate.certificatePath)
        for host in ["127.0.0.1", "localhost"] {
            let outcome = HTTPClient.post(
                Data("{}".utf8), to: URL(string: "https://\(host):\(receiver.server.port)/hook")!,
                headers: ["Authorization": "Bearer s3cret"], timeout: 5, tls: trusted, clock: SystemClock())
            #expect(outcome.status == 200, "\(host): \(outcome.error ?? "")")
        }
        #expect(receiver.received.count == 2)
        #expect(receiver.received.allSatisfy { $0.method == "POST" && $0.path == "/hook" && $0.authorization == "Bearer s3cret" })
    }

    @Test func anUntrustedCertificateIsRefusedUnlessVerificationIsOff() throws {
        let certificate = try TestCertificate.make()
        let other = try TestCertificate.make()
        defer {
            certificate.remove()
            other.remove()
        }
        let receiver = try TLSReceiver(certificate)
        defer { receiver.stop() }
        let url = URL(string: "https://127.0.0.1:\(receiver.server.port)/hook")!
        for options in [ClientConnection.TLSOptions(), ClientConnection.TLSOptions(caFile: other.certificatePath)] {
            let refused = HTTPClient.post(Data("{}".utf8), to: url, headers: [:], timeout: 5, tls: options, clock: SystemClock())
            #expect(refused.status == nil)
            #expect(refused.error?.contains("certificate refused") == true, "\(refused.error ?? "")")
        }
        #expect(receiver.received.isEmpty, "nothing is sent to a server whose certificate is refused")
        let insecure = HTTPClient.post(
            Data("{}".utf8), to: url, headers: [:], timeout: 5, tls: .init(insecureSkipVerify: true), clock: SystemClock())
        #expect(insecure.status == 200)
    }

    /// A receiver closing mid-response over TLS is a retried failure, and the notification goes out
    /// once the receiver is back on the same port.
    @Test(.tags(.wallClock)) func aTLSReceiverClosingMidResponseIsRetriedNotFatal() throws {
        let certificate = try TestCertificate.make()
        defer { certificate.remove() }
        let faulty = try HalfAnsweringTLSServer(certificate)
        let channel = NotificationChannel(
            name: "https",
            delivery: .init(
                url: URL(string: "https://127.0.0.1:\(faulty.port)/hook")!, headers: [:], timeout: .seconds(5),
                tls: .init(caFile: certificate.certificatePath), baseBackoff: .seconds(1)),
            clock: SystemClock(), logger: Logger(label: "test"))
        channel.start()
        channel.enqueue(.init(key: "g", body: Data("{}".utf8), isRepeat: false))
        try faulty.answerHalfAndClose()
        let recovered = try TLSReceiver(certificate, port: faulty.port)
        defer { recovered.stop() }
        let deadline = Date().addingTimeInterval(20)
        while channel.stats.outcomes[.success] == nil && Date() < deadline { usleep(50_000) }
        channel.stop(drainUntil: SystemClock().monotonic())
        #expect(channel.stats.outcomes[.success] == 1)
        #expect(recovered.received.count == 1)
    }
}
