"""The live page itself: one HTML document, inline CSS and JS, no external assets (works offline).

It opens ``events`` (server-sent events) and redraws on every snapshot; it marks itself stale when
pushes stop.

A service shows the 2019-2023 domains if it has figures of them (``forms`` has ``v1``), the
current A-11 form's trust per scale and drivers if it has those (``v2``), both if both; under them,
what its comments of the last hour say: the top negative themes with their counts and the latest
negative comments (redacted by the snapshot, escaped here like every name). An open alert's line
ends with its service's themes.

Hooks for tests and scripts, one attribute per name (HTML-escaped, so ``element.dataset`` gives the
exact strings back): ``#status[data-seq]`` counts snapshots drawn; each ``[data-cell]`` holds a
pct_positive for its ``data-agency``, ``data-service``, ``data-domain`` and ``data-channel``
(``all`` = every channel), its responses in ``data-n``; each ``[data-trust]`` holds one figure of the
current form's trust for its ``data-agency``, ``data-service``, ``data-scale`` (``thumbs``,
``five_point``) and ``data-channel``: ``data-figure`` is ``pct`` (% favourable, responses in
``data-n``), ``n`` or ``interval`` (the last two for ``all`` only); each ``[data-driver]`` (the driver's
name) holds one figure of a driver, all channels together, for its ``data-agency`` and
``data-service``: ``data-figure`` is ``went_well``, ``did_not_go_well`` (percent of those offered it)
or ``offered``; each ``[data-alert]`` is an open alert of its ``data-agency``, ``data-service`` and
``data-domain`` (open_alerts' name: a domain or ``v2_trust_<scale>``); each ``[data-theme]`` (the
driver's name, not a ``data-driver``, which would make it a driver figure) is one of the last hour's
top negative themes of its ``data-agency`` and ``data-service``, with ``data-negative`` (negative
comments naming it) and ``data-mentions`` (all comments naming it), and each ``[data-alert-theme]``
the same on an alert's line; each ``[data-verbatim]`` is one negative comment of its
``data-agency`` and ``data-service``, with ``data-at`` (UTC epoch milliseconds) and
``data-channel``, its text in the ``q`` inside; ``section.svc`` carries ``data-agency`` and
``data-service``. Names are never joined into one string: agency ``P|Q`` /
service ``R`` and agency ``P`` / service ``Q|R`` are two services, and a joined key once showed one's
score on the other's alert. Inside the script, lookups are keyed by ``key(...)``, the JSON array of the names, which no
two distinct tuples of strings share.
"""

from __future__ import annotations

import json

from cxstream.dashboard.queries import SCALE_LABELS
from cxstream.vocabulary import DRIVERS

# Placeholders are @@NAME@@: the JS uses ${...} template literals, so string.Template would clash.
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>cxstream live CX scores</title>
<style>
body{font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1f24;background:#f4f5f7}
header{display:flex;align-items:baseline;gap:1.5em;padding:.6em 1em;background:#1d2b3a;color:#fff}
header h1{font-size:17px;margin:0;font-weight:600}
#status{font-variant-numeric:tabular-nums}#status.stale,#status.error{color:#ffb3b3;font-weight:600}
.legend{color:#555;margin:.5em 1em}
#alerts{margin:.6em 1em;padding:.5em .8em;background:#fff;border-left:5px solid #2e7d32;border-radius:3px}
#alerts.firing{border-left-color:#c62828;background:#fff5f5}
#alerts h2{font-size:14px;margin:0 0 .2em}#alerts h2 small{font-weight:normal;color:#666}#alerts ul{margin:0;padding-left:1.2em}
#alerts li{margin:.15em 0}#alerts b{color:#c62828}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(620px,1fr));gap:.8em;padding:0 1em 1em}
.svc{background:#fff;border-radius:4px;padding:.4em .6em;box-shadow:0 1px 2px rgba(0,0,0,.12)}
.svc.alerting{box-shadow:0 0 0 2px #c62828}
.svc h2{font-size:14px;margin:.1em 0 .3em;display:flex;gap:.6em;align-items:baseline}
.svc h2 small{color:#666;font-weight:normal}.badge{background:#c62828;color:#fff;border-radius:8px;padding:0 .5em;font-size:11px}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th{font-weight:600;color:#555;font-size:11px;text-align:right;padding:1px 5px;border-bottom:1px solid #ccc;white-space:nowrap}
td{padding:1px 5px;text-align:right;border-bottom:1px solid #eee;white-space:nowrap}
th.l,td.l{text-align:left}td.all{font-weight:600}
.low{color:#c62828;font-weight:700}.sup{color:#aaa}.ci{color:#777;font-size:11px}
td.ch{border-left:1px solid #eee}svg{vertical-align:middle}
.form{margin:.5em 0 .1em;font-size:11px;font-weight:600;color:#1d2b3a;text-transform:uppercase;letter-spacing:.04em}
table.drivers th,table.drivers td{width:11%}table.drivers .l{width:auto}.na{color:#aaa;font-size:11px}
.themes{margin:.2em 0}.theme{display:inline-block;margin-right:1em}.theme .neg{color:#c62828;font-weight:700}
.theme small,.verbatims small,.nocomments{color:#777}.verbatims{margin:.2em 0 .1em;padding-left:1.2em}
.verbatims li{margin:.15em 0;white-space:normal}.verbatims q{font-style:italic}
.tag{font-size:10px;color:#555;background:#eef1f4;border-radius:6px;padding:0 .4em;margin-left:.3em}
#alerts .themes{color:#555}#alerts .theme{display:inline;margin:0}
</style></head><body>
<header><h1>cxstream &middot; live CX scores</h1><span id="status" data-seq="0">connecting&hellip;</span></header>
<p class="legend">Rolling 15 minutes, per agency and service: <b>% positive</b> (answers 4&ndash;5 of 1&ndash;5)
with responses and 95% interval, then each channel. Current A-11 form: <b>trust % favourable</b> (thumbs up, or
4&ndash;5 on the five-point scale), each scale on its own; each driver's % <i>went well</i> and % <i>didn't go
well</i> of the respondents offered it (<i>not offered</i> is not a zero). <b>Comments</b>, last hour: the
drivers negative comments name most (negative comments, of all that name it) and the latest negative comments,
redacted.
<b class="low">Red</b>: below the @@THRESHOLD@@% alert threshold; grey: too few responses to trust.
<i>Last hour</i>: in 5-minute steps (dashed line: threshold). Times are UTC.</p>
<section id="alerts"><h2>Open alerts <small>(rolling 15-minute % positive, or % favourable for trust, now; responses in brackets; hover for the figures each fired on)</small></h2><div id="alert-list">waiting for data&hellip;</div></section>
<main id="services"></main>
<script>
"use strict";
const PUSH_SECONDS = @@PUSH_SECONDS@@;
const DOMAINS = @@DOMAINS@@;
const DRIVERS = @@DRIVERS@@;
const SCALES = @@SCALES@@;  // each trust scale and what the page calls it, in order
const esc = s => String(s).replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
// Map keys: the JSON array of the names, never names joined by a separator a name may contain.
const key = (...names) => JSON.stringify(names);
// Test hooks: one escaped data-* attribute per name, e.g. {agency, service} -> data-agency="..." data-service="...".
const hooks = names => Object.entries(names).map(([k, v]) => ` data-${k}="${esc(v)}"`).join("");
const utc = ms => new Date(ms).toISOString().slice(11, 19);
const statusEl = document.getElementById("status");
let seq = 0, lastAt = 0, lastText = "";

function pctCell(s, threshold, names, extra) {
  const cell = "data-cell" + hooks(names);
  if (!s) return `<td class="${extra}" ${cell}>&ndash;</td>`;
  const cls = s.suppressed ? "sup" : (s.pct < threshold ? "low" : "");
  return `<td class="${extra} ${cls}" ${cell} data-n="${s.responses}" title="${s.responses} responses">`
    + `${s.pct.toFixed(1)}</td>`;
}

function spark(points, threshold) {
  const w = 96, h = 18, step = w / (points.length - 1), y = v => (h - 1 - v / 100 * (h - 2)).toFixed(1);
  let d = "", pen = false;
  points.forEach((v, i) => {
    if (v === null) { pen = false; return; }
    d += (pen ? "L" : "M") + (i * step).toFixed(1) + " " + y(v); pen = true;
  });
  const last = [...points].reverse().find(v => v !== null);
  const colour = last !== undefined && last < threshold ? "#c62828" : "#1565c0";
  return `<svg width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" aria-label="last hour">`
    + `<line x1="0" x2="${w}" y1="${y(threshold)}" y2="${y(threshold)}" stroke="#bbb" stroke-dasharray="2 2"/>`
    + `<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"/></svg>`;
}

const interval = s => s ? "[" + s.low.toFixed(0) + "&ndash;" + s.high.toFixed(0) + "]" : "";

function domainTable(b, threshold) {
  const at = (domain, channel) => ({agency: b.agency, service: b.service, domain, channel});
  const head = `<tr><th class="l">domain</th><th>% pos</th><th>n</th><th>95% interval</th><th>last hour</th>`
    + b.channels.map(c => `<th class="ch">${esc(c)}</th>`).join("") + "</tr>";
  const rows = DOMAINS.map(d => {
    const r = b.domains[d], a = r.all;
    return `<tr data-domain="${esc(d)}"><td class="l">${esc(d)}</td>` + pctCell(a, threshold, at(d, "all"), "all")
      + `<td>${a ? a.responses : ""}</td><td class="ci">${interval(a)}</td>`
      + `<td>${spark(r.trend, threshold)}</td>`
      + b.channels.map(c => pctCell(r.channels[c], threshold, at(d, c), "ch")).join("") + "</tr>";
  }).join("");
  return `<table><thead>${head}</thead><tbody>${rows}</tbody></table>`;
}

function trustCell(s, threshold, names, extra) {
  // Like pctCell, under its own hook: a trust figure is never counted as a domain's.
  const cell = "data-trust" + hooks({...names, figure: "pct"});
  if (!s) return `<td class="${extra}" ${cell}>&ndash;</td>`;
  const cls = s.suppressed ? "sup" : (s.pct < threshold ? "low" : "");
  return `<td class="${extra} ${cls}" ${cell} data-n="${s.responses}" title="${s.responses} responses">`
    + `${s.pct.toFixed(1)}</td>`;
}

function trustTable(b, threshold) {
  const at = (scale, channel) => ({agency: b.agency, service: b.service, scale, channel});
  const head = `<tr><th class="l">trust</th><th>% fav</th><th>n</th><th>95% interval</th><th>last hour</th>`
    + b.trust_channels.map(c => `<th class="ch">${esc(c)}</th>`).join("") + "</tr>";
  const rows = SCALES.filter(([scale]) => b.trust[scale]).map(([scale, label]) => {
    const r = b.trust[scale], a = r.all, all = at(scale, "all");
    return `<tr data-scale="${esc(scale)}"><td class="l">${esc(label)}</td>` + trustCell(a, threshold, all, "all")
      + `<td data-trust${hooks({...all, figure: "n"})}>${a ? a.responses : ""}</td>`
      + `<td class="ci" data-trust${hooks({...all, figure: "interval"})}>${interval(a)}</td>`
      + `<td>${spark(r.trend, threshold)}</td>`
      + b.trust_channels.map(c => trustCell(r.channels[c], threshold, at(scale, c), "ch")).join("") + "</tr>";
  }).join("");
  return rows ? `<table><thead>${head}</thead><tbody>${rows}</tbody></table>` : "";
}

function driverTable(b) {
  // Drivers across, in the contract's order; a driver nobody was offered shows "not offered", never 0.
  const cell = (d, figure, text, cls, title) => `<td class="${cls}" data-driver="${esc(d)}"`
    + `${hooks({agency: b.agency, service: b.service, figure})}${title ? ` title="${esc(title)}"` : ""}>${text}</td>`;
  const row = (label, figure, show) => `<tr><td class="l">${label}</td>` + DRIVERS.map(d => {
    const r = b.drivers[d];
    if (!r) return figure === "offered" ? cell(d, figure, "not offered", "na", "") : cell(d, figure, "&ndash;", "na", "");
    return cell(d, figure, show(r), r.suppressed ? "sup" : "",
                `${r.went_well} went well, ${r.did_not_go_well} didn't, of ${r.offered} offered`);
  }).join("") + "</tr>";
  return `<table class="drivers"><thead><tr><th class="l">driver, all channels</th>`
    + DRIVERS.map(d => `<th>${esc(d)}</th>`).join("") + "</tr></thead><tbody>"
    + row("% went well", "went_well", r => r.pct_went_well.toFixed(1))
    + row("% didn't go well", "did_not_go_well", r => r.pct_did_not_go_well.toFixed(1))
    + row("offered", "offered", r => String(r.offered)) + "</tbody></table>";
}

function themeList(themes, names, hook, short) {
  // The last hour's top negative themes: the driver, its negative comments, of all naming it.
  return themes.map(t => {
    // The driver's name is the hook's own value: a data-driver attribute would make it a [data-driver] figure.
    const data = `="${esc(t.driver)}"` + hooks({...names, negative: t.negative_mentions, mentions: t.mentions});
    const title = `last hour: ${t.negative_mentions} negative, ${t.positive_mentions} positive `
      + `of ${t.mentions} comments about ${t.label}`;
    return `<span class="theme" ${hook}${data} title="${esc(title)}">${esc(short ? t.driver : t.label)} `
      + `<span class="neg">${t.negative_mentions}</span>${short ? "" : ` <small>of ${t.mentions}</small>`}</span>`;
  }).join(short ? ", " : "");
}

function comments(b) {
  // What customers say, under the scores: top complaints, then the latest negative comments, newest first.
  const themes = b.themes || [], verbatims = b.verbatims || [], names = {agency: b.agency, service: b.service};
  if (!themes.length && !verbatims.length) {
    return `<p class="form">Comments, last hour</p><p class="nocomments">No negative comments in the last hour.</p>`;
  }
  const top = themes.length ? `<p class="themes">Top complaints: ${themeList(themes, names, "data-theme", false)}</p>` : "";
  const latest = verbatims.map(v => `<li data-verbatim${hooks({...names, at: v.submitted_at_ms, channel: v.channel})}>`
    + `<small>${utc(v.submitted_at_ms)} UTC &middot; ${esc(v.channel)}</small> <q>${esc(v.text)}</q>`
    + (v.drivers || []).map(d => `<span class="tag">${esc(d)}</span>`).join("") + "</li>").join("");
  return `<p class="form">Comments, last hour</p>${top}`
    + (latest ? `<ul class="verbatims">${latest}</ul>` : "");
}

function serviceCard(b, threshold) {
  const v2 = b.forms.includes("v2"), v1 = b.forms.includes("v1") || !v2;
  let body = v1 ? domainTable(b, threshold) : "";
  if (v2) {
    body += `<p class="form">Current A-11 form</p>` + trustTable(b, threshold) + driverTable(b);
  }
  body += comments(b);
  const badge = b.alerts ? `<span class="badge">${b.alerts} alert${b.alerts > 1 ? "s" : ""}</span>` : "";
  return `<section class="svc${b.alerts ? " alerting" : ""}"${hooks({agency: b.agency, service: b.service})}>`
    + `<h2>${esc(b.agency)}`
    + ` <small>${esc(b.service)}</small>${badge}</h2>${body}</section>`;
}

function alertList(alerts, services) {
  // One line per service, its worst domain first, services with the worst score first. The figures
  // are the current rolling score (the alert's own are those it fired on, in the tooltip).
  // A trust alert (a.scale set) is compared with that scale's own score, never with the other's.
  const now = new Map();
  services.forEach(b => {
    DOMAINS.forEach(d => { if (b.domains[d].all) now.set(key(b.agency, b.service, d, null), b.domains[d].all); });
    Object.entries(b.trust).forEach(([s, r]) => { if (r.all) now.set(key(b.agency, b.service, null, s), r.all); });
  });
  const byService = new Map();
  alerts.forEach(a => {
    const k = key(a.agency, a.service);
    const cur = now.get(a.scale ? key(a.agency, a.service, null, a.scale) : key(a.agency, a.service, a.domain, null));
    if (!byService.has(k)) byService.set(k, []);
    byService.get(k).push({...a, pctNow: cur ? cur.pct : a.pct, nNow: cur ? cur.responses : a.responses});
  });
  const groups = [...byService.values()].map(g => g.sort((x, y) => x.pctNow - y.pctNow));
  groups.sort((x, y) => x[0].pctNow - y[0].pctNow);
  return "<ul>" + groups.map(g => `<li><b>${esc(g[0].agency)} / ${esc(g[0].service)}</b>: `
    + g.map(a => `<span data-alert${hooks({agency: a.agency, service: a.service, domain: a.domain})} `
      + `title="fired at ${a.pct.toFixed(1)}% on ${a.responses} responses `
      + `(threshold ${a.threshold}%) at ${utc(a.since_ms)} UTC">${esc(a.label || a.domain)} <b>${a.pctNow.toFixed(1)}%</b> `
      + `<small>(${a.nNow})</small></span>`).join(", ")
    + ` <small>firing since ${utc(Math.min(...g.map(a => a.since_ms)))}</small>`
    + ((g[0].themes || []).length ? ` <span class="themes">&mdash; themes: `
      + `${themeList(g[0].themes, {agency: g[0].agency, service: g[0].service}, "data-alert-theme", true)}</span>` : "")
    + "</li>").join("") + "</ul>";
}

function draw(snap) {
  const box = document.getElementById("alerts");
  box.className = snap.alerts.length ? "firing" : "";
  document.getElementById("alert-list").innerHTML = snap.alerts.length ? alertList(snap.alerts, snap.services) : "None: every "
    + "rolling score with enough responses is at or above the threshold.";
  document.getElementById("services").innerHTML = snap.services.length
    ? snap.services.map(b => serviceCard(b, snap.threshold)).join("")
    : "<p>No scores in the last 15 minutes yet.</p>";
}

function showStatus(text, cls) {
  statusEl.textContent = text; statusEl.className = cls || "";
}

const source = new EventSource("events");
source.onmessage = e => {
  const msg = JSON.parse(e.data);
  lastAt = Date.now();
  if (msg.error) { showStatus("ClickHouse: " + msg.error + " (showing the last data read)", "error"); return; }
  draw(msg);
  seq += 1; statusEl.dataset.seq = String(seq);
  lastText = `updated ${utc(msg.read_at_ms)} UTC (read in ${msg.read_ms} ms), ${msg.services.length} services, `
    + `${msg.alerts.length} open alert${msg.alerts.length === 1 ? "" : "s"}`;
  showStatus(lastText);
};
source.onerror = () => showStatus("connection lost, reconnecting\u2026", "stale");
setInterval(() => {
  if (lastAt && Date.now() - lastAt > 3 * PUSH_SECONDS * 1000) {
    showStatus(`no update for ${Math.round((Date.now() - lastAt) / 1000)} s: ` + lastText, "stale");
  }
}, 1000);
</script></body></html>
"""


def _js(value: object) -> str:
    """A JSON literal for the script; ``<`` escaped, so no name can close the script element."""
    return json.dumps(value, separators=(",", ":")).replace("<", "\\u003c")


def render_page(threshold: float, push_seconds: float, domains: tuple[str, ...],
                drivers: tuple[str, ...] = DRIVERS, scales: dict[str, str] = SCALE_LABELS) -> str:
    """The page for one server: its alert threshold, push interval, the domains and drivers in order,
    and the trust scales with what the page calls them."""
    return (_PAGE.replace("@@THRESHOLD@@", f"{threshold:g}").replace("@@PUSH_SECONDS@@", f"{push_seconds:g}")
            .replace("@@DOMAINS@@", _js(list(domains))).replace("@@DRIVERS@@", _js(list(drivers)))
            .replace("@@SCALES@@", _js(list(scales.items()))))
