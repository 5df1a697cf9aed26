import Config
import Foundation

/// `--web.config.file` read from disk: the parsed file with its certificate and key loaded and checked.
struct WebConfigFile: Sendable, Equatable {
    var tls: TLSMaterial?
    var basicAuthUsers: [String: String] = [:]

    /// No file: plain HTTP, no authentication.
    static let none = WebConfigFile()

    /// Reads and checks the file; every failure names the field (`web.config.file`, or the key inside it).
    static func load(path: String?) throws(ConfigError) -> WebConfigFile {
        guard let path else { return .none }
        let text: String
        do throws(ReasonError) {
            text = try TextFile.read(path)
        } catch {
            throw ConfigError(field: "web.config.file", source: path, reason: "cannot read it: \(error.reason)")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let parsed = try WebConfig.parse(yaml: text, name: path, directory: directory.isEmpty ? "." : directory)
        var loaded = WebConfigFile(basicAuthUsers: parsed.basicAuthUsers)
        if let tls = parsed.tls {
            let certificate = try pem(tls.certificate, field: "tls_server_config.cert_file", configPath: path)
            let key = try pem(tls.key, field: "tls_server_config.key_file", configPath: path)
            do throws(ReasonError) {
                loaded.tls = try TLSMaterial(certificatePEM: certificate, keyPEM: key, priorities: tls.priorities)
            } catch {
                throw ConfigError(field: "tls_server_config", source: path, reason: error.reason)
            }
        }
        return loaded
    }

    private static func pem(_ source: WebConfig.PEMSource, field: String, configPath: String) throws(ConfigError) -> String {
        switch source {
        case .inline(let text):
            return text
        case .file(let file):
            do throws(ReasonError) {
                return try TextFile.read(file)
            } catch {
                throw ConfigError(field: field, source: configPath, reason: "cannot read it: \(error.reason)")
            }
        }
    }
}
