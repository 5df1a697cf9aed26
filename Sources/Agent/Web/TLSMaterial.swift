import CGnuTLS
import Config

/// What the HTTPS server is started with: PEM texts checked by GnuTLS, and the allowed versions.
struct TLSMaterial: Sendable, Equatable {
    var certificatePEM: String
    var keyPEM: String
    /// GnuTLS priority string.
    var priorities: String

    /// Checks that the certificate parses and matches the key, and that GnuTLS takes the priorities.
    init(certificatePEM: String, keyPEM: String, priorities: String) throws(ReasonError) {
        let pair = bw_tls_check_key_pair(certificatePEM, keyPEM)
        guard pair == 0 else { throw ReasonError("certificate and key: \(String(cString: bw_tls_error(pair)))") }
        let checked = bw_tls_check_priorities(priorities)
        guard checked == 0 else { throw ReasonError("TLS versions: \(String(cString: bw_tls_error(checked)))") }
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
        self.priorities = priorities
    }
}
