/// The status page the admin listener serves at `/` (README "Status page"): one self-contained
/// HTML document (inline CSS and script, charts drawn as inline SVG by the script, no external
/// resource of any kind) that polls `/status.json` every 2 s, one request at a time. Peers choose
/// their own addresses and a network file its model ids, so the script puts every value from the
/// node into the page as text (`textContent`, SVG attributes of numbers), never as markup.
enum StatusPageHTML {
    /// Sent with the page: nothing but the page's own inline style and script, and fetches of this
    /// listener (`/status.json`).
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'"

    static let page = #"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width,initial-scale=1">
        <title>Chorus node</title>
        <style>
        :root{--bg:#f4f6f8;--card:#fff;--ink:#1d232b;--muted:#67717d;--line:#dde1e6;--ok:#1f8a4c;--bad:#c0392b;--warn:#b7791f;--accent:#3b6fb6}
        *{box-sizing:border-box}
        body{margin:0;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--ink)}
        header{display:flex;flex-wrap:wrap;gap:12px;align-items:center;padding:12px 20px;background:#1d2733;color:#fff}
        header h1{font-size:18px;margin:0}
        header .sub{font-family:monospace;color:#cfd8e3}
        .badge{display:inline-block;padding:1px 9px;border-radius:10px;font-size:12px;font-weight:600;background:#59626d;color:#fff}
        .badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}
        #banner{display:none;padding:8px 20px;background:var(--bad);color:#fff}
        main{padding:16px 20px;display:grid;gap:16px;grid-template-columns:repeat(auto-fit,minmax(440px,1fr))}
        section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 16px;min-width:0}
        section.wide{grid-column:1/-1}
        h2{font-size:15px;margin:0 0 8px}
        h3{font-size:13px;margin:12px 0 4px;color:var(--muted)}
        .kv{display:grid;grid-template-columns:repeat(auto-fill,minmax(130px,1fr));gap:8px}
        .kv div{background:var(--bg);border-radius:6px;padding:6px 8px;overflow:hidden}
        .kv b{display:block;font-size:18px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
        .kv span{font-size:12px;color:var(--muted)}
        table{border-collapse:collapse;width:100%;font-size:12px}
        th,td{border-bottom:1px solid var(--line);padding:3px 6px;text-align:right;white-space:nowrap}
        th{color:var(--muted);font-weight:600}
        .l{text-align:left}.mono{font-family:monospace}.muted{color:var(--muted)}
        .scroll{overflow:auto;max-height:380px}
        .strip{display:flex;gap:4px;flex-wrap:wrap;margin:8px 0}
        .epoch{min-width:48px;padding:4px 6px;border-radius:5px;text-align:center;font-size:12px;background:#d5dae0}
        .epoch.final{background:#bfe3cc}.epoch.diverged{background:#f3c2bc}.epoch.current{outline:2px solid var(--accent)}
        .stages{display:flex;height:20px;border-radius:4px;overflow:hidden;margin:6px 0;font-size:11px;color:#fff;position:relative}
        .stages div{padding:2px 4px;overflow:hidden;white-space:nowrap}
        .stages .now{position:absolute;top:0;bottom:0;width:2px;background:#111;padding:0}
        svg{display:block;max-width:100%}
        svg text{font-size:11px;fill:var(--ink)}
        footer{padding:0 20px 16px;font-size:12px}
        </style></head>
        <body>
        <header><h1>Chorus node</h1><span class="sub" id="node-id">connecting…</span><span class="sub" id="node-role"></span>
        <span class="badge" id="health">health</span><span class="badge" id="ready">ready</span>
        <span class="sub" id="updated"></span></header>
        <div id="banner"></div>
        <main>
        <section class="wide"><h2>Overview</h2><div class="kv" id="overview"></div><p class="muted" id="ready-failed"></p></section>
        <section class="wide"><h2>Epochs</h2><div id="epoch-now" class="muted">This node follows no network file (a relay): it has no epochs.</div>
        <div class="stages" id="stage-bar"></div><div class="strip" id="epoch-strip"></div>
        <div class="scroll"><table id="epoch-table"></table></div></section>
        <section class="wide"><h2>Weights</h2><div id="weights-summary" class="muted">No final weight table yet.</div>
        <div id="weight-charts"></div><h3>Weight over the final epochs</h3><div id="history-chart"></div>
        <h3>Weight table</h3><div class="scroll"><table id="weight-table"></table></div></section>
        <section><h2>Peers</h2><div id="peers-chart"></div><div class="scroll"><table id="peer-table"></table></div></section>
        <section><h2>Mesh and membership</h2><div class="kv" id="swim"></div><h3>Topic meshes</h3>
        <div class="scroll"><table id="mesh-table"></table></div></section>
        <section><h2>Worker and PoC</h2><div class="kv" id="worker"></div><h3>Nonces per second</h3><div id="rate-chart"></div>
        <div class="scroll"><table id="generation-table"></table></div></section>
        <section><h2>Inference</h2><div class="kv" id="inference"></div><h3>Requests over time</h3><div id="inference-chart"></div></section>
        </main>
        <footer class="muted" id="truncated"></footer>
        <script>
        "use strict";
        const POLL_MS = 2000, KEEP = 150, SVGNS = "http://www.w3.org/2000/svg";
        const COLORS = ["#3b6fb6", "#1f8a4c", "#c0392b", "#b7791f", "#7d3c98", "#16808a", "#6b7c93", "#d35400"];
        const STAGE_COLORS = {generation: "#3b6fb6", validation: "#7d3c98", tally: "#b7791f", inference: "#1f8a4c"};
        const series = new Map();

        function byId(id) { return document.getElementById(id); }
        function el(tag, text, cls) {
          const e = document.createElement(tag);
          if (text !== undefined && text !== null) e.textContent = String(text);
          if (cls) e.className = cls;
          return e;
        }
        function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
        function short(hex) { return typeof hex === "string" ? hex.slice(0, 12) : "–"; }
        function fmt(n) {
          if (n === null || n === undefined) return "–";
          if (typeof n !== "number") return String(n);
          const a = Math.abs(n);
          if (a >= 1e9) return (n / 1e9).toFixed(2) + " G";
          if (a >= 1e6) return (n / 1e6).toFixed(2) + " M";
          if (a >= 1e4) return (n / 1e3).toFixed(1) + " k";
          return Number.isInteger(n) ? String(n) : n.toFixed(2);
        }
        function bytes(n) {
          if (typeof n !== "number") return "–";
          const units = ["B", "KiB", "MiB", "GiB", "TiB"];
          let i = 0;
          while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
          return (i ? n.toFixed(1) : String(n)) + " " + units[i];
        }
        function dur(s) {
          if (typeof s !== "number") return "–";
          s = Math.max(0, Math.floor(s));
          const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
          if (d) return d + "d " + h + "h";
          if (h) return h + "h " + m + "m";
          if (m) return m + "m " + (s % 60) + "s";
          return s + "s";
        }
        function kv(container, pairs) {
          clear(container);
          for (const [label, value, id] of pairs) {
            const d = el("div"), b = el("b", value);
            if (id) b.id = id;
            b.title = String(value);
            d.appendChild(b);
            d.appendChild(el("span", label));
            container.appendChild(d);
          }
        }
        // headers: names; a leading "<" marks a left-aligned monospace column.
        function table(t, headers, rows, empty) {
          clear(t);
          const head = el("tr");
          for (const h of headers) head.appendChild(el("th", h.replace(/^</, ""), h.startsWith("<") ? "l" : ""));
          t.appendChild(head);
          for (const r of rows) {
            const row = el("tr");
            r.forEach((c, i) => row.appendChild(el("td", c, headers[i].startsWith("<") ? "l mono" : "")));
            t.appendChild(row);
          }
          if (!rows.length) {
            const row = el("tr"), td = el("td", empty || "none", "l muted");
            td.colSpan = headers.length;
            row.appendChild(td);
            t.appendChild(row);
          }
        }
        function svg(w, h) {
          const s = document.createElementNS(SVGNS, "svg");
          s.setAttribute("width", w);
          s.setAttribute("height", h);
          s.setAttribute("viewBox", "0 0 " + w + " " + h);
          s.setAttribute("role", "img");
          return s;
        }
        function sv(tag, attrs, text) {
          const e = document.createElementNS(SVGNS, tag);
          for (const k of Object.keys(attrs)) e.setAttribute(k, attrs[k]);
          if (text !== undefined) e.textContent = String(text);
          return e;
        }
        function place(id, node) { const c = byId(id); clear(c); c.appendChild(node); }

        // Horizontal bars scaled to the largest value; bars: [{label, value, own}].
        function barChart(bars) {
          const row = 18, labelW = 110, w = 560, barW = w - labelW - 80;
          const s = svg(w, Math.max(bars.length, 1) * row + 4);
          const top = Math.max(1, ...bars.map(b => b.value));
          if (!bars.length) s.appendChild(sv("text", {x: 0, y: 14}, "no accepted PoC weight"));
          bars.forEach((b, i) => {
            const y = i * row + 2, bw = Math.round(b.value / top * barW);
            s.appendChild(sv("text", {x: 0, y: y + 12, "font-family": "monospace"}, b.label));
            s.appendChild(sv("rect", {x: labelW, y: y, width: bw, height: row - 5, fill: b.own ? "#1f8a4c" : "#3b6fb6"}));
            s.appendChild(sv("text", {x: labelW + bw + 5, y: y + 12}, fmt(b.value)));
          });
          return s;
        }

        // Lines over a shared x axis; lines: [{name, color, points: [[x, y]]}].
        function lineChart(lines, xLabel) {
          const w = 560, h = 130, left = 44, right = 6;
          // The legend wraps onto more rows when the names (model ids can be long) do not fit one.
          const legend = [];
          let lx = left, ly = 0;
          for (const l of lines) {
            const width = 30 + 6.5 * Math.min(l.name.length, 70);
            if (lx + width > w && lx > left) { lx = left; ly += 15; }
            legend.push([l, lx, ly]);
            lx += width;
          }
          const xs = lines.flatMap(l => l.points.map(p => p[0])), ys = lines.flatMap(l => l.points.map(p => p[1]));
          if (!xs.length) { const e = svg(w, 20); e.appendChild(sv("text", {x: 0, y: 14}, "no data yet")); return e; }
          const s = svg(w, h + 34 + ly);
          const x0 = Math.min(...xs), x1 = Math.max(...xs), top = Math.max(1, ...ys);
          const X = x => left + (x1 === x0 ? (w - left - right) / 2 : (x - x0) / (x1 - x0) * (w - left - right));
          const Y = y => 6 + (h - 12) * (1 - y / top);
          s.appendChild(sv("line", {x1: left, y1: Y(0), x2: w - right, y2: Y(0), stroke: "#bbb"}));
          s.appendChild(sv("line", {x1: left, y1: Y(top), x2: w - right, y2: Y(top), stroke: "#eee"}));
          s.appendChild(sv("text", {x: 0, y: Y(top) + 4}, fmt(top)));
          s.appendChild(sv("text", {x: 0, y: Y(0) + 4}, "0"));
          s.appendChild(sv("text", {x: left, y: h + 10}, xLabel(x0)));
          s.appendChild(sv("text", {x: w - right, y: h + 10, "text-anchor": "end"}, xLabel(x1)));
          for (const l of lines) {
            if (!l.points.length) continue;
            const pts = l.points.map(p => X(p[0]).toFixed(1) + "," + Y(p[1]).toFixed(1)).join(" ");
            s.appendChild(sv("polyline", {points: pts, fill: "none", stroke: l.color, "stroke-width": 2}));
            const last = l.points[l.points.length - 1];
            s.appendChild(sv("circle", {cx: X(last[0]).toFixed(1), cy: Y(last[1]).toFixed(1), r: 3, fill: l.color}));
          }
          for (const [l, x, y] of legend) {
            s.appendChild(sv("rect", {x: x, y: h + 20 + y, width: 10, height: 10, fill: l.color}));
            s.appendChild(sv("text", {x: x + 14, y: h + 29 + y}, l.name));
          }
          return s;
        }

        // A value per poll, kept for the last KEEP polls (the page's own memory, not the node's).
        function record(name, t, v) {
          if (typeof v !== "number" || !isFinite(v)) return;
          let points = series.get(name);
          if (!points) { points = []; series.set(name, points); }
          points.push([t, v]);
          if (points.length > KEEP) points.splice(0, points.length - KEEP);
        }
        function recorded(name) { return series.get(name) || []; }
        function clock(t) { return new Date(t).toLocaleTimeString(); }

        function renderHeader(d, n) {
          const health = byId("health"), ready = byId("ready");
          health.textContent = "health " + d.health.status;
          health.className = "badge " + (d.health.status === "ok" ? "ok" : "bad");
          ready.textContent = d.ready === true ? "ready" : d.ready === false ? "not ready" : "no answer";
          ready.className = "badge " + (d.ready ? "ok" : "bad");
          byId("ready-failed").textContent = Object.keys(d.failed || {}).sort().map(k => k + ": " + d.failed[k]).join(" · ");
          if (!n) return;
          const id = byId("node-id");
          id.textContent = short(n.status.public_key) + "…";
          id.title = n.status.public_key;
          byId("node-role").textContent = n.status.role + " · " + n.status.network_id;
        }

        function renderOverview(d, n) {
          const st = n.status, t = n.timeline;
          kv(byId("overview"), [
            ["epoch", t ? t.current : "–", "current-epoch"],
            ["stage", t ? t.stage : "–", "current-stage"],
            ["last final epoch", t && t.last_final_epoch != null ? t.last_final_epoch : "none", "last-final-epoch"],
            ["peers", st.peer_count, "peer-count"],
            ["inbound / outbound", st.inbound + " / " + st.outbound],
            ["connecting", st.connecting],
            ["mesh peers", st.mesh_peers],
            ["known addresses", st.known_addresses],
            ["uptime", dur(st.uptime_seconds)],
            ["loop lag", (d.health.loop_lag_seconds * 1000).toFixed(1) + " ms"],
          ]);
        }

        function renderEpochs(n) {
          const t = n.timeline, strip = byId("epoch-strip"), bar = byId("stage-bar");
          clear(strip); clear(bar);
          if (!t) { clear(byId("epoch-table")); return; }
          const stage = t.stages.find(s => s.stage === t.stage);
          const left = stage ? Math.max(0, Math.round((stage.end_unix_ms - n.unix_ms) / 1000)) : 0;
          const lag = t.last_final_epoch == null ? "no final table yet" : "last final epoch " + t.last_final_epoch +
            " (" + (t.current - Math.min(t.current, t.last_final_epoch)) + " behind)";
          byId("epoch-now").textContent = "Epoch " + t.current + ", " + t.stage + " stage, " + left + " s left; " + lag + ".";
          const start = t.stages.length ? t.stages[0].start_unix_ms : 0, end = t.stages.length ? t.stages[t.stages.length - 1].end_unix_ms : 1;
          for (const s of t.stages) {
            const seg = el("div", s.stage);
            seg.style.width = (100 * (s.end_unix_ms - s.start_unix_ms) / Math.max(1, end - start)).toFixed(2) + "%";
            seg.style.background = STAGE_COLORS[s.stage] || "#6b7c93";
            if (s.stage !== t.stage) seg.style.opacity = "0.45";
            bar.appendChild(seg);
          }
          const now = el("div", null, "now");
          now.style.left = (100 * Math.min(1, Math.max(0, (n.unix_ms - start) / Math.max(1, end - start)))).toFixed(2) + "%";
          bar.appendChild(now);
          for (const e of t.epochs) {
            const box = el("div", null, "epoch" + (e.final ? " final" : "") + (e.divergences.length ? " diverged" : "") +
              (e.epoch === t.current ? " current" : ""));
            box.appendChild(el("b", e.epoch));
            box.appendChild(el("div", e.final ? "final" : e.epoch === t.current ? e.stage || "now" : "not final"));
            box.title = e.table_digest ? "table " + e.table_digest : "no final table";
            strip.appendChild(box);
          }
          const rows = t.epochs.slice().reverse().map(e => [
            e.epoch, e.stage || "", e.final ? "yes" : "no", e.table_digest ? e.table_digest.slice(0, 16) : "–",
            e.own_table_digest ? (e.own_table_digest === e.table_digest ? "same" : e.table_digest ? "DIFFERS" : e.own_table_digest.slice(0, 16)) : "–",
            e.certificate_signers == null ? "–" : e.certificate_signers, e.statements,
            e.skipped.concat(e.divergences.map(v => "diverged: own " + v.own.slice(0, 12) + " final " + v.final.slice(0, 12))).join("; "),
          ]);
          table(byId("epoch-table"), ["epoch", "<stage", "<final", "<table digest", "<own table", "signers", "statements", "<notes"], rows);
        }

        function renderWeights(n) {
          const w = n.weights, charts = byId("weight-charts");
          clear(charts);
          if (!w) {
            byId("weights-summary").textContent = n.timeline ? "No final weight table yet." : "No weights: this node follows no network file.";
            table(byId("weight-table"), ["<participant", "weight"], [], "no final table yet");
          } else {
            const total = w.participants.reduce((a, p) => a + p.weight, 0), own = n.own_entry;
            const count = (n.truncated["weights.participants"] || w.participants.length);
            byId("weights-summary").textContent = "Final table of epoch " + w.epoch + " (" + w.table_digest.slice(0, 16) + "…): " +
              count + " participants" + (own ? "; this node: weight " + own.weight + ", voting weight " + own.voting_weight +
              (total ? " (" + (100 * own.weight / total).toFixed(1) + " % of the listed weight)" : "") : "; this node is not in it") + ".";
            for (const model of n.models) {
              const bars = w.participants.flatMap(p => p.models.filter(m => m.model === model && m.poc_weight > 0)
                .map(m => ({label: short(p.participant), value: m.poc_weight, own: p.participant === n.status.public_key})))
                .sort((a, b) => b.value - a.value);
              charts.appendChild(el("h3", "PoC weight: " + model));
              charts.appendChild(barChart(bars));
            }
            const rows = w.participants.map(p => [
              short(p.participant) + (p.participant === n.status.public_key ? " (this node)" : ""), p.weight, p.voting_weight,
              p.models.map(m => m.model + " " + m.mode + " n=" + m.committed_count + " poc=" + m.poc_weight + (m.accepted ? "" : " (not accepted)")).join("; "),
            ]);
            table(byId("weight-table"), ["<participant", "weight", "voting weight", "<models"], rows);
          }
          const lines = n.models.map((m, i) => ({name: m, color: COLORS[i % COLORS.length],
            points: n.history.map(p => [p.epoch, p.model_weight[m] || 0])}));
          lines.push({name: "this node (total)", color: "#222", points: n.history.map(p => [p.epoch, p.own_weight])});
          place("history-chart", lineChart(lines, x => "epoch " + x));
        }

        function renderPeers(n) {
          place("peers-chart", lineChart([
            {name: "peers", color: COLORS[0], points: recorded("peers")},
            {name: "mesh peers", color: COLORS[1], points: recorded("mesh")},
            {name: "SWIM alive", color: COLORS[3], points: recorded("alive")},
          ], clock));
          const rows = n.peers.map(p => [short(p.public_key), p.address, p.advertised_address || "–", p.direction,
            p.rtt_ms == null ? "–" : p.rtt_ms.toFixed(1), dur(p.connected_seconds), bytes(p.bytes_sent), bytes(p.bytes_received), p.drops]);
          table(byId("peer-table"), ["<peer", "<address", "<advertised", "<direction", "rtt ms", "connected", "sent", "received", "drops"], rows,
            "no peer session");
        }

        function renderMesh(n) {
          const st = n.status, m = st.members;
          kv(byId("swim"), [
            ["SWIM alive", m ? m.alive : "–"], ["suspect", m ? m.suspect : "–"], ["dead", m ? m.dead : "–"],
            ["gossip delivered", fmt(st.delivered)], ["duplicates", fmt(st.duplicates)], ["invalid", fmt(st.invalid)],
          ]);
          table(byId("mesh-table"), ["<topic", "size", "<peers"], n.mesh.map(t => [t.topic,
            (n.truncated["mesh." + t.topic] || t.peers.length), t.peers.map(short).join(" ")]), "no topic");
        }

        function renderWorker(n) {
          const poc = n.status.poc;
          if (!poc) {
            kv(byId("worker"), [["worker", "none"]]);
            table(byId("generation-table"), ["<model"], [], "this node runs no PoC worker");
          } else {
            const wk = poc.worker;
            kv(byId("worker"), [
              ["worker", wk.healthy ? "healthy" : "unhealthy", "worker-healthy"], ["endpoint", wk.endpoint], ["models", wk.models.length],
              ["calls", fmt(wk.calls)], ["failures", fmt(wk.failures)], ["commits (epoch)", poc.commits], ["votes (epoch)", poc.votes],
              ["proofs served", fmt(poc.proofs.requests_served)],
            ]);
            if (wk.last_error) byId("worker").appendChild(el("div", "last error: " + wk.last_error, "muted"));
            table(byId("generation-table"), ["<model", "epoch", "window", "nonces/s", "artifacts", "<running", "<error"],
              poc.generation.map(g => [g.model, g.epoch, g.window == null ? "–" : g.window, fmt(g.nonces_per_second), fmt(g.artifacts),
                g.running ? "yes" : "no", g.error || ""]), "no generation yet");
          }
          const models = poc ? poc.generation.map(g => g.model) : [];
          place("rate-chart", lineChart(models.map((m, i) => ({name: m, color: COLORS[i % COLORS.length], points: recorded("rate:" + m)})), clock));
        }

        function renderInference(n) {
          const r = n.status.inference;
          if (!r) { kv(byId("inference"), [["inference", "off"]]); }
          else {
            kv(byId("inference"), [
              ["pending", r.pending], ["serving", r.served], ["served for peers", fmt(r.servedForPeers)], ["forwarded", fmt(r.forwarded)],
              ["refused busy", fmt(r.refusedBusy)], ["executor failures", fmt(r.executorFailures)], ["malformed", fmt(r.malformed)],
              ["receipts refused", fmt(r.receiptsRefused)], ["checks run", fmt(r.checksRun)], ["checks failed", fmt(r.checksFailed)],
              ["open circuits", r.openCircuits],
            ]);
          }
          place("inference-chart", lineChart([
            {name: "served for peers", color: COLORS[0], points: recorded("servedForPeers")},
            {name: "forwarded", color: COLORS[1], points: recorded("forwarded")},
            {name: "executor failures", color: COLORS[2], points: recorded("executorFailures")},
          ], clock));
        }

        function renderFooter(n) {
          const cut = Object.keys(n.truncated).sort().map(k => k + " (" + n.truncated[k] + ")");
          byId("truncated").textContent = "Polled every " + POLL_MS / 1000 + " s from /status.json." +
            (cut.length ? " Lists cut to their first entries, with their full length: " + cut.join(", ") + "." : "");
        }

        function render(d) {
          const n = d.node;
          renderHeader(d, n);
          byId("updated").textContent = "updated " + new Date().toLocaleTimeString();
          const banner = byId("banner");
          if (!n) { banner.textContent = d.error || "the node did not answer"; banner.style.display = "block"; return; }
          banner.style.display = "none";
          const t = n.unix_ms;
          record("peers", t, n.status.peer_count);
          record("mesh", t, n.status.mesh_peers);
          if (n.status.members) record("alive", t, n.status.members.alive);
          if (n.status.poc) for (const g of n.status.poc.generation) record("rate:" + g.model, t, g.running ? g.nonces_per_second : 0);
          const inference = n.status.inference;
          if (inference) for (const k of ["servedForPeers", "forwarded", "executorFailures"]) record(k, t, inference[k]);
          renderOverview(d, n);
          renderEpochs(n);
          renderWeights(n);
          renderPeers(n);
          renderMesh(n);
          renderWorker(n);
          renderInference(n);
          renderFooter(n);
        }

        async function poll() {
          try {
            const response = await fetch("status.json", {cache: "no-store"});
            if (!response.ok) throw new Error("HTTP " + response.status);
            render(await response.json());
          } catch (error) {
            const banner = byId("banner");
            banner.textContent = "Cannot read the node's status (" + error.message + "); retrying every " + POLL_MS / 1000 + " s.";
            banner.style.display = "block";
          }
          setTimeout(poll, POLL_MS);
        }
        poll();
        </script>
        </body></html>

        """#
}
