import Alerting
import Health

/// The page at `/`: what an operator wants to see at 3 a.m. Every cluster and replica with its verdict and reasons,
/// quorum, view, commit_max, release, probe round trip, a timeline of each replica's recent verdicts (inline SVG),
/// the firing alerts and the last changes. One self-contained HTML document: no script, no external asset; it
/// reloads itself every `refreshSeconds`, and reads on a phone. Pure: every value from the health model is
/// escaped (StatsD tags and probe errors are anyone's text).
public enum StatusPage {
    public static let refreshSeconds = 5

    public static func render(status: StatusDocument, alerts: [Alert], history: VerdictHistory, version: String) -> String {
        let now = status.health.generatedAt
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="refresh" content="\(refreshSeconds)">
            <title>\(status.ready.ready ? "ready" : "NOT READY") · beetlewatch</title>
            <style>\(css)</style></head><body>
            <header><h1>beetlewatch</h1><span class="muted">\(escape(version)) · \(time(now)) UTC · refreshes every \(refreshSeconds) s</span></header>

            """
        html +=
            "<section class=\"verdict \(status.ready.ready ? "ok" : "bad")\" id=\"readiness\"><strong>\(status.ready.ready ? "READY" : "NOT READY")</strong>"
        html += " <span class=\"muted\">(require \(escape(status.ready.require.rawValue)))</span><ul>"
        html += status.ready.lines.map { "<li>\(escape($0))</li>" }.joined() + "</ul></section>\n"
        if status.health.clusters.isEmpty {
            html += "<p class=\"muted\">No cluster yet: waiting for StatsD, or set --tigerbeetle.cluster and --tigerbeetle.addresses.</p>\n"
        }
        for cluster in status.health.clusters {
            html += clusterSection(cluster, history: history, now: now)
        }
        html += alertsSection(alerts.filter { $0.state == .firing }, now: now)
        html += eventsSection(history.events.suffix(20).reversed(), now: now)
        html += """
            <footer class="muted"><a href="/metrics">/metrics</a> · <a href="/health">/health</a> · <a href="/ready">/ready</a> ·
            <a href="/api/v1/status">/api/v1/status</a> · <a href="/api/v1/alerts">/api/v1/alerts</a> · <a href="/api/v1/events">/api/v1/events</a></footer>
            </body></html>

            """
        return html
    }

    static func clusterSection(_ cluster: ClusterVerdict, history: VerdictHistory, now: Double) -> String {
        let title = cluster.name.map { "cluster \(escape($0))" } ?? "cluster \(escape(cluster.id))"
        let quorumClass = cluster.quorumLost ? "bad" : cluster.quorum == true ? "ok" : "warn"
        var html = "<section class=\"cluster\" id=\"cluster-\(escape(cluster.id))\"><h2>\(title)</h2>"
        html += "<p class=\"summary \(quorumClass)\">\(escape(cluster.summary))</p><p class=\"muted\">"
        html += [
            "view \(cluster.highestView.map(whole) ?? "?")", "\(cluster.viewChanges) view changes seen",
            cluster.releases.isEmpty ? nil : "release \(cluster.releases.joined(separator: ", "))",
            cluster.watched ? nil : "heard from, not configured",
            cluster.canary.map { "canary: " + CanaryLine.text($0, now: now) },
        ].compactMap { $0 }.map(escape).joined(separator: " · ")
        html += "</p>" + cluster.notes.map { "<p class=\"note\">\(escape($0))</p>" }.joined()
        html +=
            "<div class=\"scroll\"><table><thead><tr><th>replica</th><th>verdict</th><th>last \(Int(history.window / 60)) min</th><th>view</th><th>commit_max</th><th>release</th><th>ping</th><th>StatsD</th><th>reasons</th></tr></thead><tbody>"
        for replica in cluster.replicas {
            let key = VerdictHistory.Key(cluster: cluster.id, replica: replica.replica)
            let view = [replica.pongView, replica.view].compactMap { $0 }.max().map(whole) ?? "–"
            let rtt = replica.probe.flatMap { $0.roundTrips > 0 ? $0.roundTripSumSeconds / Double($0.roundTrips) : nil }
            html +=
                "<tr id=\"replica-\(escape(cluster.id))-\(replica.replica)\"><td><strong>\(replica.replica)</strong><br><span class=\"muted\">\(escape(replica.address ?? "StatsD only"))</span></td>"
            html += "<td><span class=\"state \(replica.state.rawValue)\">\(replica.state.rawValue)</span></td>"
            html += "<td>\(timeline(history.timelines[key] ?? [], window: history.window, now: now))</td>"
            html += "<td>\(view)</td><td>\(replica.commitMax.map(whole) ?? "–")</td>"
            html += "<td>\(escape(replica.release ?? "–"))</td><td>\(rtt.map { milliseconds($0) } ?? "–")</td>"
            html += "<td>\(replica.secondsSinceSeen.map { "\(Int($0.rounded())) s ago" } ?? "never")</td>"
            html +=
                "<td class=\"reasons\">\(replica.reasons.isEmpty ? "–" : replica.reasons.map { escape($0.detail) }.joined(separator: "<br>"))</td></tr>"
        }
        return html + "</tbody></table></div></section>\n"
    }

    /// The replica's verdicts over the window as coloured bars, oldest on the left; a tooltip per bar.
    static func timeline(_ segments: [VerdictHistory.Segment], window: Double, now: Double) -> String {
        let width = 240.0
        let start = now - window
        var bars = ""
        for (i, segment) in segments.enumerated() {
            let from = max(segment.since, start)
            let to = i + 1 < segments.count ? segments[i + 1].since : now
            guard to > from else { continue }
            let x = (from - start) / window * width
            let w = max(1, (to - from) / window * width)
            bars +=
                "<rect x=\"\(Int(x))\" y=\"0\" width=\"\(Int(w.rounded(.up)))\" height=\"14\" class=\"\(segment.state.rawValue)\"><title>\(segment.state.rawValue) from \(time(segment.since))</title></rect>"
        }
        return
            "<svg class=\"timeline\" viewBox=\"0 0 \(Int(width)) 14\" width=\"\(Int(width))\" height=\"14\" role=\"img\" aria-label=\"verdicts over the last \(Int(window / 60)) minutes\">\(bars)</svg>"
    }

    static func alertsSection(_ firing: [Alert], now: Double) -> String {
        var html = "<section id=\"alerts\"><h2>Firing alerts</h2>"
        if firing.isEmpty { return html + "<p class=\"muted\">none</p></section>\n" }
        html += "<ul>"
        for alert in firing {
            let subject = ["cluster", "replica", "status"].compactMap { key in alert.labels[key].map { "\(key) \(escape($0))" } }.joined(
                separator: ", ")
            let since = alert.firedAt?.unixSeconds ?? now
            html +=
                "<li><span class=\"state \(alert.labels["severity"] == "critical" ? "unreachable" : "unknown")\">\(escape(alert.labels["severity"] ?? ""))</span> "
            html +=
                "<strong>\(escape(alert.name.rawValue))</strong> \(subject) <span class=\"muted\">since \(time(since))</span><br>\(escape(alert.annotations["summary"] ?? ""))</li>"
        }
        return html + "</ul></section>\n"
    }

    static func eventsSection(_ events: some Sequence<VerdictHistory.Event>, now: Double) -> String {
        var html = "<section id=\"events\"><h2>Last changes</h2><ul>"
        var any = false
        for event in events {
            any = true
            html +=
                "<li><span class=\"muted\">\(time(event.at))</span> replica \(event.replica) of \(escape(String(event.cluster.suffix(6)))): "
            html +=
                "\(event.from.map { "<span class=\"state \($0.rawValue)\">\($0.rawValue)</span> → " } ?? "")<span class=\"state \(event.to.rawValue)\">\(event.to.rawValue)</span>"
            if !event.reasons.isEmpty { html += " <span class=\"muted\">\(escape(event.reasons.joined(separator: "; ")))</span>" }
            html += "</li>"
        }
        return html + (any ? "" : "<li class=\"muted\">none yet</li>") + "</ul></section>\n"
    }

    /// `HH:MM:SS` (UTC) of Unix seconds; a value no clock shows prints as `?`.
    static func time(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e12 else { return "?" }
        let day = Int64(seconds) % 86_400
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(two(day / 3600)):\(two(day / 60 % 60)):\(two(day % 60))"
    }

    /// A whole number from the model (views, ops: whole and in range when recorded), without a trap if not.
    static func whole(_ value: Double) -> String {
        guard value.isFinite, abs(value) < 9e18 else { return "?" }
        return String(Int64(value))
    }

    static func milliseconds(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "–" }
        let ms = seconds * 1000
        return ms < 10 ? "\((ms * 100).rounded() / 100) ms" : "\(Int(ms.rounded())) ms"
    }

    /// Text as HTML: `&`, `<`, `>`, `"` and `'` escaped.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    static let css = """
        body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:12px;color:#1b1f24;background:#fafafa}
        header{display:flex;flex-wrap:wrap;gap:12px;align-items:baseline}h1{font-size:20px;margin:0}h2{font-size:17px;margin:18px 0 6px}
        .muted{color:#667}.verdict{padding:8px 12px;border-radius:6px}.verdict ul{margin:4px 0 0;padding-left:18px}
        .ok{background:#e3f5e6}.bad{background:#fde2e1}.warn{background:#fff4d6}.summary{padding:4px 8px;border-radius:4px;display:inline-block}
        .note{background:#fff4d6;padding:4px 8px}.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;background:#fff}
        th,td{border-bottom:1px solid #e3e5e8;padding:6px;text-align:left;vertical-align:top}th{font-size:13px;color:#556}
        .reasons{font-size:13px;max-width:420px}.state{border-radius:3px;padding:1px 6px;font-size:13px;white-space:nowrap;color:#fff;background:#8a939c}
        .healthy{background:#2e8540;fill:#2e8540}.unknown{background:#8a939c;fill:#c5cad0}.unreachable,.hung{background:#c62828;fill:#c62828}
        .silent,.behind,.syncing,.unobserved{background:#b26a00;fill:#e0a030}.abnormal,.isolated{background:#8e24aa;fill:#8e24aa}
        .timeline{background:#eef0f2;border-radius:2px}ul{padding-left:18px}li{margin:3px 0}footer{margin-top:24px;font-size:13px}
        @media (max-width:640px){body{font-size:14px}th:nth-child(3),td:nth-child(3){display:none}}
        """
}
