import Foundation

/// Debian's `chromium`, headless: a page's DOM after it loaded, or a screenshot of it.
public enum HeadlessChromium {
    public struct Missing: Error, CustomStringConvertible {
        public var description: String { "chromium not installed: scripts/test installs it" }
    }

    public static var path: String? {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ arguments: [String]) throws -> Command.Result {
        guard let path else { throw Missing() }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("beetlewatch-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        // --no-sandbox: tests may run as root, where Chromium's sandbox refuses to start.
        return try Command.run(
            path,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
                "--user-data-dir=\(profile.path)",
            ] + arguments)
    }

    /// The document as the browser built it (after parsing, styles applied).
    public static func dom(_ url: String) throws -> String {
        try run(["--dump-dom", url]).stdout
    }

    /// A PNG of the page at `width`×`height` CSS pixels.
    public static func screenshot(_ url: String, to file: URL, width: Int = 1280, height: Int = 900) throws {
        _ = try run(["--screenshot=\(file.path)", "--window-size=\(width),\(height)", "--hide-scrollbars", url])
    }
}
