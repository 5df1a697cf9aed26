import Foundation
import StatsD
import TestSupport
import Testing

@testable import MetricStore

struct NamingCase: Sendable, CustomTestStringConvertible {
    var mode: NamingMode
    var name: String
    var type: MetricType
    var family: String
    var familyType: FamilyType
    var action: SampleAction
    var divisor: Double = 1
    var testDescription: String { "\(mode.rawValue): \(name)|\(type.code) → \(family)" }
}

let namingCases: [NamingCase] = [
    // tigerbeetle mode: TigerBeetle's shapes.
    .init(
        mode: .tigerbeetle, name: "tb.replica_status", type: .gauge, family: "tigerbeetle_replica_status", familyType: .gauge,
        action: .gaugeSet),
    .init(
        mode: .tigerbeetle, name: "tb.clock_delta_ns", type: .gauge, family: "tigerbeetle_clock_delta_seconds", familyType: .gauge,
        action: .gaugeSet, divisor: 1e9),
    .init(
        mode: .tigerbeetle, name: "tb.replica_start", type: .gauge, family: "tigerbeetle_replica_start_timestamp_seconds",
        familyType: .gauge, action: .gaugeSet, divisor: 1e9),
    .init(
        mode: .tigerbeetle, name: "tb.grid_cache_hits", type: .gauge, family: "tigerbeetle_grid_cache_hits_total", familyType: .counter,
        action: .counterSet),
    .init(
        mode: .tigerbeetle, name: "tb.lsm_manifest_block_count", type: .gauge, family: "tigerbeetle_lsm_manifest_blocks",
        familyType: .gauge, action: .gaugeSet),
    .init(
        mode: .tigerbeetle, name: "tb.replica_request_us.sum", type: .counter, family: "tigerbeetle_replica_request_seconds",
        familyType: .summary, action: .summarySum, divisor: 1e6),
    .init(
        mode: .tigerbeetle, name: "tb.replica_request_us.count", type: .counter, family: "tigerbeetle_replica_request_seconds",
        familyType: .summary, action: .summaryCount, divisor: 1e6),
    .init(
        mode: .tigerbeetle, name: "tb.replica_request_us.max", type: .gauge, family: "tigerbeetle_replica_request_seconds_max",
        familyType: .gauge, action: .gaugeSet, divisor: 1e6),
    .init(
        mode: .tigerbeetle, name: "tb.loop_run_for_ns_us.avg", type: .gauge, family: "tigerbeetle_loop_run_for_seconds_avg",
        familyType: .gauge, action: .gaugeSet, divisor: 1e6),
    // tigerbeetle mode: the generic rule for metrics a future TigerBeetle adds.
    .init(mode: .tigerbeetle, name: "tb.new_thing", type: .gauge, family: "tigerbeetle_new_thing", familyType: .gauge, action: .gaugeSet),
    .init(
        mode: .tigerbeetle, name: "tb.new_latency_ns", type: .gauge, family: "tigerbeetle_new_latency_seconds", familyType: .gauge,
        action: .gaugeSet, divisor: 1e9),
    .init(
        mode: .tigerbeetle, name: "tb.new_wait_ms", type: .gauge, family: "tigerbeetle_new_wait_seconds", familyType: .gauge,
        action: .gaugeSet, divisor: 1e3),
    .init(
        mode: .tigerbeetle, name: "tb.widget_count", type: .gauge, family: "tigerbeetle_widget_count_value", familyType: .gauge,
        action: .gaugeSet),
    .init(
        mode: .tigerbeetle, name: "tb.new_op_us.sum", type: .counter, family: "tigerbeetle_new_op_seconds", familyType: .summary,
        action: .summarySum, divisor: 1e6),
    .init(
        mode: .tigerbeetle, name: "tb.new_op_us.min", type: .gauge, family: "tigerbeetle_new_op_seconds_min", familyType: .gauge,
        action: .gaugeSet, divisor: 1e6),
    .init(
        mode: .tigerbeetle, name: "tb.new_events", type: .counter, family: "tigerbeetle_new_events_total", familyType: .counter,
        action: .counterAdd),
    .init(
        mode: .tigerbeetle, name: "tb.new_timer", type: .timer, family: "tigerbeetle_new_timer", familyType: .summary, action: .observe,
        divisor: 1e3),
    // tigerbeetle mode: a timing stat with the wrong type falls back to the generic rules.
    .init(
        mode: .tigerbeetle, name: "tb.odd_us.sum", type: .gauge, family: "tigerbeetle_odd_us_sum_value", familyType: .gauge,
        action: .gaugeSet),
    // Non-tb lines get the statsd_exporter mapping in both modes.
    .init(mode: .tigerbeetle, name: "app.requests", type: .counter, family: "app_requests", familyType: .counter, action: .counterAdd),
    .init(mode: .tigerbeetle, name: "tb", type: .gauge, family: "tb", familyType: .gauge, action: .gaugeSetOrDelta),
    // statsd_exporter mode.
    .init(
        mode: .statsdExporter, name: "tb.replica_status", type: .gauge, family: "tb_replica_status", familyType: .gauge,
        action: .gaugeSetOrDelta),
    .init(
        mode: .statsdExporter, name: "tb.replica_request_us.sum", type: .counter, family: "tb_replica_request_us_sum", familyType: .counter,
        action: .counterAdd),
    .init(
        mode: .statsdExporter, name: "tb.clock_delta_ns", type: .gauge, family: "tb_clock_delta_ns", familyType: .gauge,
        action: .gaugeSetOrDelta),
    .init(mode: .statsdExporter, name: "my-app.req/s", type: .counter, family: "my_app_req_s", familyType: .counter, action: .counterAdd),
    .init(mode: .statsdExporter, name: "9lives", type: .gauge, family: "_9lives", familyType: .gauge, action: .gaugeSetOrDelta),
    .init(mode: .statsdExporter, name: "café.hits", type: .counter, family: "caf__hits", familyType: .counter, action: .counterAdd),
    .init(
        mode: .statsdExporter, name: "api.latency", type: .timer, family: "api_latency", familyType: .summary, action: .observe,
        divisor: 1e3),
    .init(mode: .statsdExporter, name: "api.size", type: .histogram, family: "api_size", familyType: .summary, action: .observe),
    .init(mode: .statsdExporter, name: "api.dist", type: .distribution, family: "api_dist", familyType: .summary, action: .observe),
    .init(mode: .statsdExporter, name: "api.users", type: .set, family: "api_users", familyType: .gauge, action: .setAdd),
]

@Suite struct MetricNamerTests {
    @Test(arguments: namingCases)
    func maps(_ c: NamingCase) {
        let mapping = MetricNamer(mode: c.mode).mapping(name: c.name, type: c.type)
        #expect(mapping.family == c.family)
        #expect(mapping.type == c.familyType)
        #expect(mapping.action == c.action)
        #expect(mapping.divisor == c.divisor)
    }

    /// Every metric `tigerbeetle inspect metrics` lists has a deliberate entry, and no
    /// name keeps an abbreviated unit, a bare `tb`, or a misused suffix.
    @Test func everyInspectedMetricHasADeliberateName() throws {
        let text = try String(contentsOf: Fixtures.url("tigerbeetle-inspect-metrics.txt"), encoding: .utf8)
        var checked = 0
        let namer = MetricNamer(mode: .tigerbeetle)
        for line in text.split(separator: "\n") where line.hasPrefix("gauge: ") || line.hasPrefix("timing: ") {
            let body = line.split(separator: " ")[1]
            let name = String(body[..<body.firstIndex(of: "(")!])
            var mappings: [MetricMapping] = []
            if line.hasPrefix("gauge: ") {
                #expect(TigerBeetleNames.gauges[name] != nil, "no deliberate name for gauge \(name)")
                mappings.append(namer.mapping(name: "tb.\(name)", type: .gauge))
            } else {
                #expect(TigerBeetleNames.timings[name] != nil, "no deliberate name for timing \(name)")
                for stat in ["sum", "count"] { mappings.append(namer.mapping(name: "tb.\(name)_us.\(stat)", type: .counter)) }
                for stat in ["min", "max", "avg"] { mappings.append(namer.mapping(name: "tb.\(name)_us.\(stat)", type: .gauge)) }
            }
            for mapping in mappings {
                let words = mapping.family.split(separator: "_")
                #expect(words.first == "tigerbeetle", "\(mapping.family)")
                for bad in ["ns", "us", "ms", "tb", "s"] { #expect(!words.contains(Substring(bad)), "\(mapping.family) has '\(bad)'") }
                #expect(mapping.type == .counter ? mapping.family.hasSuffix("_total") : !mapping.family.hasSuffix("_total"))
                if mapping.type != .summary {
                    #expect(!mapping.family.hasSuffix("_count") && !mapping.family.hasSuffix("_sum"), "\(mapping.family)")
                }
                #expect(!mapping.help.isEmpty)
            }
            checked += 1
        }
        #expect(checked == 64)
    }

    @Test(arguments: [("a.b-c", "a_b_c"), ("9x", "_9x"), ("ok_Name9", "ok_Name9"), ("a b", "a_b"), ("é", "_"), ("", "")])
    func escapesLikeStatsdExporter(_ input: String, _ output: String) {
        #expect(PrometheusName.escape(input) == output)
    }
}
