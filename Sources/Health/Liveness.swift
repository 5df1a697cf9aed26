/// `/health` as JSON: the agent is up and answering. It says nothing about TigerBeetle (that is `/ready`);
/// `agent` lets `beetlewatch check --live` tell beetlewatch's answer from any other server's 200.
public struct Liveness: Sendable, Equatable, Codable {
    public var status = "ok"
    public var agent = "beetlewatch"

    public init() {}
}
