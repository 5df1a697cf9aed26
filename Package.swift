// swift-tools-version:6.0
import PackageDescription

/// The modules the simulator and the quick suite spend their time in (the pure ones, the agent's loops, the fake
/// replicas' bytes) and the simulator itself are optimised in debug builds too, their assertions kept
/// (`-assert-config Debug`; arithmetic stays checked): a debug simulator seed took 1.4 s, 40% of it the health
/// evaluation, and the seeds that found defects are most of the quick suite's time (22 seeds: 5.3 s with the agent's
/// module unoptimised, 3.0 s with it).
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O", "-assert-config", "Debug"], .when(configuration: .debug))]

let package = Package(
    name: "beetlewatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "beetlewatch", targets: ["beetlewatch"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
    ],
    targets: [
        // Pure modules: no sockets, no clock reads, no logging back-ends.
        .target(name: "StatsD", swiftSettings: optimisedInDebug),
        // TigerBeetle's vocabulary: cluster ids, replica keys, the signals replicas send that health reads.
        .target(name: "TigerBeetle", swiftSettings: optimisedInDebug),
        .target(name: "MetricStore", dependencies: ["StatsD", "TigerBeetle"], swiftSettings: optimisedInDebug),
        .target(name: "Exposition", dependencies: ["TigerBeetle", "MetricStore"], swiftSettings: optimisedInDebug),
        .target(name: "Health", dependencies: ["TigerBeetle", "MetricStore", "Exposition"], swiftSettings: optimisedInDebug),
        .target(name: "Alerting", dependencies: ["TigerBeetle", "Health", "MetricStore", "Exposition"], swiftSettings: optimisedInDebug),
        // TigerBeetle's wire protocol: the checksum, the one request beetlewatch sends (ping_client), replies.
        .target(name: "VSR", swiftSettings: optimisedInDebug),
        // One replica's probe, and one cluster's canary, as state machines on virtual time.
        .target(name: "Probe", dependencies: ["VSR", "Health", "TigerBeetle"], swiftSettings: optimisedInDebug),
        .target(name: "StatusPage", dependencies: ["Health", "Alerting"]),
        .target(
            name: "Config",
            dependencies: ["TigerBeetle", "MetricStore", "Health", "Alerting", "Probe", "VSR", .product(name: "Yams", package: "Yams")]),
        // libmicrohttpd, wrapped with a small C shim for its variadic start function.
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        // GnuTLS (libmicrohttpd's TLS library): checking server certificates, and the client for https:// receivers.
        .systemLibrary(name: "CGnuTLS", pkgConfig: "gnutls", providers: [.apt(["libgnutls28-dev"])]),
        // bcrypt verification for basic auth (libxcrypt).
        .systemLibrary(name: "CCrypt", providers: [.apt(["libcrypt-dev"])]),
        // recvmmsg/sendmmsg, which Swift's Glibc module does not expose.
        .systemLibrary(name: "CNetShim"),
        // I/O edges: UDP receiver, HTTP server, replay sender, lifecycle.
        .target(
            name: "Agent",
            dependencies: [
                "StatsD", "TigerBeetle", "MetricStore", "Exposition", "Health", "Alerting", "StatusPage", "Config", "VSR", "Probe",
                "CMicroHTTPD", "CNetShim", "CCrypt", "CGnuTLS",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: optimisedInDebug
        ),
        .executableTarget(
            name: "beetlewatch",
            dependencies: [
                "Agent", "Config", "MetricStore", "Exposition", "Health", "Alerting", "CNetShim",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The benchmarks (`scripts/bench`, `scripts/soak`): a program of their own, so the shipped binary carries none of them.
        .executableTarget(
            name: "beetlewatch-bench",
            dependencies: [
                "Agent", "Alerting", "CNetShim", "Config", "Exposition", "Health", "MetricStore", "TigerBeetle",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/beetlewatch-bench"
        ),
        // The simulator: the agent's own parts (SteppedAgent) on a simulated cluster, network and clock from a seed. Test
        // code, never shipped in the image.
        .target(
            name: "Simulation",
            dependencies: [
                "Agent", "Alerting", "Config", "Health", "Probe", "TigerBeetle", "VSR", "FakeTigerBeetle",
                .product(name: "Logging", package: "swift-log"),
            ], swiftSettings: optimisedInDebug),
        .executableTarget(name: "beetlewatch-sim", dependencies: ["Simulation"], path: "Sources/beetlewatch-sim"),
        // Fake TigerBeetle replicas (pong, eviction, stop, kill) for the tests and `beetlewatch-bench probe`: test code, never shipped.
        .target(name: "FakeTigerBeetle", dependencies: ["VSR"], path: "Tests/FakeTigerBeetle", swiftSettings: optimisedInDebug),
        .executableTarget(name: "fake-tigerbeetle", dependencies: ["FakeTigerBeetle"], path: "Tests/FakeTigerBeetleMain"),
        // Test helpers: the shared fixtures, an independent oracle for the capture, promtool.
        .target(
            name: "TestSupport", dependencies: ["TigerBeetle", "MetricStore", "Health", "VSR", "FakeTigerBeetle"], path: "Tests/TestSupport"
        ),
        // A real agent for the end-to-end tests: only their targets link the agent and its C libraries.
        .target(
            name: "AgentTestSupport", dependencies: ["Agent", "Config", "TestSupport", .product(name: "Logging", package: "swift-log")],
            path: "Tests/AgentTestSupport"),
        .testTarget(name: "StatsDTests", dependencies: ["StatsD"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "Agent", "Alerting", "Health", "Probe", "VSR", "TestSupport"]),
        .testTarget(name: "VSRTests", dependencies: ["VSR"]),
        .testTarget(name: "ProbeTests", dependencies: ["Probe", "VSR", "Health", "TigerBeetle", "TestSupport"]),
        .testTarget(name: "MetricStoreTests", dependencies: ["TigerBeetle", "MetricStore", "StatsD", "TestSupport"]),
        .testTarget(name: "ExpositionTests", dependencies: ["Exposition", "MetricStore", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "HealthTests", dependencies: ["TigerBeetle", "Health", "MetricStore", "TestSupport"]),
        .testTarget(name: "StatusPageTests", dependencies: ["StatusPage", "Health", "Alerting", "MetricStore", "TestSupport"]),
        .testTarget(name: "AlertingTests", dependencies: ["TigerBeetle", "Alerting", "Health", "MetricStore", "TestSupport"]),
        .testTarget(name: "ConfigTests", dependencies: ["TigerBeetle", "Config", "MetricStore"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "DeploymentTests",
            dependencies: [
                "Agent", "Config", "Health", "Alerting", "TestSupport", "AgentTestSupport", .product(name: "Yams", package: "Yams"),
            ]),
        // The agent's loops on virtual time (VirtualClock): seconds in all.
        .testTarget(
            name: "AgentTests",
            dependencies: ["Agent", "TigerBeetle", "MetricStore", "Health", "Alerting", "Config", "TestSupport", "AgentTestSupport"]),
        // Real processes, sockets and wall time (the agent binary, fake replicas, curl, chromium): tagged endToEnd, and
        // left out with `swift test --skip EndToEndTests --skip DeploymentTests` (scripts/test --quick).
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "TigerBeetle", "Agent", "beetlewatch", "StatsD", "MetricStore", "Health", "Alerting", "Config", "TestSupport",
                "AgentTestSupport",
            ]),
    ]
)
