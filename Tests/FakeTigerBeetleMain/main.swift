// fake-tigerbeetle: many fake TigerBeetle replicas (ReplicaFarm) in one process, for `beetlewatch-bench
// probe`. A test tool, never shipped: it answers pings as recorded replicas do.
//
//   fake-tigerbeetle CLUSTERS REPLICAS_PER_CLUSTER
//
// Prints a beetlewatch config file watching them (cluster ids 1...CLUSTERS), then a line "ready". Reads
// commands from standard input: "stop N", "cont N", "kill N" (N = the replica's position, 0-based, in
// cluster order); exits when standard input closes.
import FakeTigerBeetle
import Foundation

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
guard arguments.count == 2, arguments[0] > 0, arguments[1] > 0, arguments[1] <= 6 else {
    FileHandle.standardError.write("usage: fake-tigerbeetle CLUSTERS REPLICAS_PER_CLUSTER (1-6)\n".data(using: .utf8)!)
    exit(2)
}
let (clusters, perCluster) = (arguments[0], arguments[1])
// A listening socket and a connection per replica: raise the open-file limit to what is allowed.
var limit = rlimit()
if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
let replicas = (1...clusters).flatMap { cluster in
    (0..<perCluster).map { ReplicaFarm.Replica(cluster: UInt128(cluster), index: UInt8($0), primary: $0 == 0) }
}
let farm = ReplicaFarm(replicas, recordPings: false)
var config = "tigerbeetle:\n  clusters:\n"
for cluster in 1...clusters {
    let addresses = (0..<perCluster).map { farm.address((cluster - 1) * perCluster + $0) }
    config += "    - {cluster: \(cluster), addresses: \"\(addresses.joined(separator: ","))\"}\n"
}
FileHandle.standardOutput.write((config + "ready\n").data(using: .utf8)!)
while let line = readLine() {
    let words = line.split(separator: " ")
    guard words.count == 2, let n = Int(words[1]), replicas.indices.contains(n) else { continue }
    switch words[0] {
    case "stop": farm.stop(n)
    case "cont": farm.resume(n)
    case "kill": farm.kill(n)
    default: break
    }
}
farm.close()
