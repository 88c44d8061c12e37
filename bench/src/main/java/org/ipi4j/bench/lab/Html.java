package org.ipi4j.bench.lab;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The report as one self-contained HTML page: the context first, then each table, with the
 * charts drawn by ECharts (inlined from its webjar, SVG renderer) from the results' data, and the
 * floors' ratios and the core-to-core heat map as hand-written SVG ({@link Svg}). A script error is
 * written into the page ({@code <pre id="errors">}), the number of ECharts charts drawn into
 * {@code body[data-rendered]}, and the frontier labels' boxes as the browser laid them out into
 * {@code <pre id="frontier-labels">}, so a headless browser can check the page.
 */
final class Html {
    /** Where the ECharts webjar keeps its minified build. */
    static final String ECHARTS = "/META-INF/resources/webjars/echarts/5.3.1/dist/echarts.min.js";

    private Html() {
    }

    static String escape(final String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    static String page(final Report report) throws IOException {
        final StringBuilder h = new StringBuilder(1_200_000);
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ipi4j lab report</title>\n<style>")
            .append("body{font-family:sans-serif;max-width:1200px;margin:2em auto;color:#222}")
            .append("table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px}")
            .append("th{background:#f3f3f3}td{text-align:right}td:first-child{text-align:left}table.text td{text-align:left}")
            .append(".chart{width:1150px;height:600px}.dist{width:1150px;height:420px}#errors{color:#b00}")
            .append("</style>\n<script>\n").append(echarts()).append("\n</script>\n</head>\n<body>\n");
        h.append("<h1>ipi4j lab report</h1>\n<h2>Context</h2>\n").append(report.contextTable().html());
        h.append("<p>").append(escape(Report.METHOD).replace("*", "")).append("</p>\n");
        final Set<String> families = new LinkedHashSet<>();
        boolean first = true;
        for (final Map.Entry<String, Table> section : report.sections().entrySet()) {
            if (section.getValue().isEmpty()) {
                continue;
            }
            h.append("<h2>").append(escape(section.getKey())).append("</h2>\n").append(section.getValue().html());
            final String columns = Report.columns(section.getKey());
            if (columns != null) {
                h.append("<p>").append(escape(columns).replace("*", "")).append("</p>\n");
            }
            if (section.getKey().equals(Report.FLOORS)) {
                h.append("<p>Each ratio with its 95% interval: grey against the floor, blue against the host's real "
                    + "mechanism, red a broken floor.</p>\n").append(Svg.ratios(report.find(FloorsPart.NAME)));
            } else if (section.getKey().equals(Report.MATRIX)) {
                h.append("<p>The matrix as a heat map: pale is the fastest pair, dark the slowest (log scale); each "
                    + "cell's tooltip gives its one-way nanoseconds.</p>\n").append(Svg.heatMap(report.find(MatrixPart.NAME)));
            }
            if (section.getKey().equals(Report.SIM_CALLS) || section.getKey().equals(Report.SIM_SHOOTDOWNS)) {
                final String op = section.getKey().equals(Report.SIM_CALLS) ? "onEachCore" : "shootdown";
                h.append("<p>Virtual latency against cores, one line per broadcast shape (log scales).</p>\n")
                    .append("<div id=\"sim-").append(op).append("\" class=\"dist\"></div>\n");
            }
            if (first) {
                first = false;
                report.results().stream().filter(r -> r.part().equals("roundtrip") && r.error() == null)
                    .forEach(r -> families.add(r.family()));
                h.append("<h2>Polling versus signal: the frontier</h2>\n<p>Paced round trips: dot at the median, whisker "
                    + "to p99; down is cheaper, left is faster. The dashed line joins the frontier: the variants no other "
                    + "variant beats on both latency and CPU. Axes are fitted to the data (log scales); a variant whose "
                    + "CPU per message reads 0 (no thread CPU time here) is listed below the chart, not plotted.</p>\n"
                    + "<div id=\"frontier\" class=\"chart\"></div>\n<p id=\"unplotted\"></p>\n"
                    + "<pre id=\"frontier-labels\" hidden></pre>\n");
                h.append("<h2>Latency distributions, paced</h2>\n<p>Per family, HdrHistogram style: latency against "
                    + "percentile on a log axis of 1/(1-p), so 90%, 99%, 99.9% are equally spaced.</p>\n");
                for (final String f : families) {
                    h.append("<div id=\"dist-").append(escape(f)).append("\" class=\"dist\"></div>\n");
                }
            }
        }
        if (!report.failures().isEmpty()) {
            h.append("<h2>Failed</h2>\n<ul>\n");
            report.failures().forEach(f -> h.append("<li>").append(escape(f)).append("</li>\n"));
            h.append("</ul>\n");
        }
        h.append("<p><em>").append(escape(report.footer())).append("</em></p>\n<pre id=\"errors\"></pre>\n");
        h.append("<script>\nconst LAB = ").append(data(report).replace("</", "<\\/")).append(";\n").append(CHARTS)
            .append("</script>\n</body></html>\n");
        return h.toString();
    }

    /** The chart data: one point per round-trip variant. */
    private static String data(final Report report) {
        final List<Object> points = new ArrayList<>();
        for (final Result r : report.results()) {
            if (!r.part().equals("roundtrip") || r.error() != null) {
                continue;
            }
            final Map<String, Object> p = new LinkedHashMap<>();
            p.put("name", r.name());
            p.put("family", r.family());
            p.put("p50", r.median("paced_p50_ns"));
            p.put("p99", r.median("paced_p99_ns"));
            p.put("cpu", r.median("cpu_paced_ns"));
            final List<Object> dist = new ArrayList<>();
            r.distributions().getOrDefault("paced", List.of()).forEach(row -> dist.add(List.of(row[0], row[1])));
            p.put("dist", dist);
            points.add(p);
        }
        final Map<String, Object> sim = new LinkedHashMap<>();
        for (final Result r : report.results()) {
            if (!r.part().equals("sim") || r.error() != null || "storm".equals(r.info().get("op"))) {
                continue;
            }
            @SuppressWarnings("unchecked")
            final Map<String, Object> byShape = (Map<String, Object>) sim.computeIfAbsent(
                String.valueOf(r.info().get("op")), k -> new LinkedHashMap<String, Object>());
            @SuppressWarnings("unchecked")
            final List<Object> line = (List<Object>) byShape.computeIfAbsent(String.valueOf(r.info().get("shape")),
                k -> new ArrayList<>());
            line.add(List.of(((Number) r.info().get("cores")).doubleValue(), r.median("virtual_ns")));
        }
        return Json.write(Map.of("points", points, "sim", sim)).trim();
    }

    private static String echarts() throws IOException {
        try (InputStream in = Html.class.getResourceAsStream(ECHARTS)) {
            if (in == null) {
                throw new IOException("ECharts is not on the class path (" + ECHARTS + "): the bench module depends on "
                    + "org.webjars.npm:echarts");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static final String CHARTS = """
        (function () {
          const errors = document.getElementById('errors');
          const report = m => { errors.textContent += m + '\\n'; };
          window.addEventListener('error', e => report('error: ' + e.message));
          const COLORS = {floor: '#7f7f7f', ipi4j: '#d62728', peer: '#1f77b4'};
          const color = f => COLORS[f] || '#9467bd';
          const us = ns => ns / 1000;
          const fmt = v => v < 10 ? v.toFixed(2) : v.toFixed(0);
          const lo = v => Math.pow(10, Math.floor(Math.log10(Math.min.apply(null, v))));
          const hi = v => Math.pow(10, Math.ceil(Math.log10(Math.max.apply(null, v))));
          let rendered = 0;
          // The frontier's labels are placed here, not by ECharts: its shiftY slides labels along one
          // column only, so the labels of points close in both x and y (floor-spin, ipi-spin, the
          // Disruptor) sat on each other. Greedy, from the top: each label takes the first spot beside
          // its dot, then one label height further up or down at a time (with a leader line once off the dot's line),
          // that no placed label takes, inside the chart, and where possible clear of every dot and whisker.
          const LABEL_FONT = '11px sans-serif';
          const LABEL_H = 15;
          const hit = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
          const placeLabels = (chart, pts, grid) => {
            const ctx = document.createElement('canvas').getContext('2d');
            ctx.font = LABEL_FONT;
            const area = {x: grid.left, y: grid.top, w: chart.getWidth() - grid.left - 4,
              h: chart.getHeight() - grid.top - grid.bottom};
            const inside = r => r.x >= area.x && r.y >= area.y && r.x + r.w <= area.x + area.w && r.y + r.h <= area.y + area.h;
            const px = v => chart.convertToPixel({xAxisIndex: 0, yAxisIndex: 0}, v);
            const at = pts.map(p => {
              const c = px([us(p.p50), us(p.cpu)]);
              const end = px([us(Math.max(p.p99, p.p50)), us(p.cpu)])[0];
              return {p: p, x: c[0], y: c[1], end: end, w: Math.ceil(ctx.measureText(p.name).width) + 4};
            });
            const obstacles = at.flatMap(a => [{x: a.x - 6, y: a.y - 6, w: 12, h: 12},
              {x: a.x, y: a.y - 5, w: Math.max(0, a.end - a.x) + 1, h: 10}]);
            const placed = [];
            const free = r => !placed.some(q => hit(q, r));
            const out = [];
            at.sort((a, b) => a.y - b.y || a.x - b.x);
            for (const a of at) {
              const cands = [];
              for (let k = 0; k <= 60; k++) {
                const dy = (k % 2 ? -1 : 1) * Math.ceil(k / 2) * LABEL_H; // 0, -H, +H, -2H, +2H, ...
                cands.push({x: a.x + 7, y: a.y - LABEL_H / 2 + dy, w: a.w, h: LABEL_H, dy: dy});
                cands.push({x: a.x - 7 - a.w, y: a.y - LABEL_H / 2 + dy, w: a.w, h: LABEL_H, dy: dy});
              }
              const box = cands.find(r => inside(r) && free(r) && !obstacles.some(o => hit(o, r)))
                || cands.find(r => inside(r) && free(r)) || cands.find(free) || cands[cands.length - 1];
              placed.push(box);
              if (box.dy !== 0) { // off its dot's line: a leader line says whose label it is
                out.push({type: 'line', silent: true, z: 50, shape: {x1: a.x, y1: a.y,
                  x2: box.x > a.x ? box.x : box.x + box.w, y2: Math.min(Math.max(a.y, box.y + 2), box.y + box.h - 2)},
                  style: {stroke: '#999', lineWidth: 0.6}});
              }
              out.push({type: 'text', silent: true, z: 60, x: box.x + 2, y: box.y + 1,
                style: {text: a.p.name, font: LABEL_FONT, fill: color(a.p.family), textVerticalAlign: 'top',
                  verticalAlign: 'top'}});
            }
            return out;
          };
          // What was drawn, for a browser test: each frontier label's box as the browser lays it out.
          const measureLabels = () => {
            const names = new Set(LAB.points.map(p => p.name));
            const boxes = [...document.querySelectorAll('#frontier svg text')]
              .filter(t => names.has(t.textContent.trim())).map(t => {
                const r = t.getBoundingClientRect();
                return {name: t.textContent.trim(), x: r.x, y: r.y, w: r.width, h: r.height};
              });
            document.getElementById('frontier-labels').textContent = JSON.stringify(boxes);
          };
          try {
            const points = LAB.points.filter(p => p.p50 > 0);
            const plotted = points.filter(p => p.cpu > 0);
            const unplotted = points.filter(p => !(p.cpu > 0)).map(p => p.name);
            if (unplotted.length) {
              document.getElementById('unplotted').textContent = 'Not plotted (CPU per message 0): ' + unplotted.join(', ');
            }
            const families = [...new Set(points.map(p => p.family))];
            if (plotted.length) {
              const sorted = plotted.slice().sort((a, b) => a.p50 - b.p50);
              const front = [];
              let best = Infinity;
              for (const p of sorted) {
                if (p.cpu < best) { front.push(p); best = p.cpu; }
              }
              const series = [...new Set(plotted.map(p => p.family))].map(f => ({
                name: f, type: 'scatter', symbolSize: 9, z: 3, itemStyle: {color: color(f)},
                data: plotted.filter(p => p.family === f).map(p => ({name: p.name, value: [us(p.p50), us(p.cpu), us(p.p99)]})),
                label: {show: false} // placed by placeLabels below
              }));
              series.push({
                name: 'p50-p99', type: 'custom', z: 2, itemStyle: {color: '#999'},
                encode: {x: [0, 1], y: 2},
                data: plotted.map(p => [us(p.p50), us(Math.max(p.p99, p.p50)), us(p.cpu)]),
                renderItem: (params, api) => {
                  const a = api.coord([api.value(0), api.value(2)]);
                  const b = api.coord([api.value(1), api.value(2)]);
                  const style = {stroke: '#999', lineWidth: 1.2};
                  return {type: 'group', children: [
                    {type: 'line', shape: {x1: a[0], y1: a[1], x2: b[0], y2: b[1]}, style: style},
                    {type: 'line', shape: {x1: b[0], y1: b[1] - 4, x2: b[0], y2: b[1] + 4}, style: style}]};
                }
              });
              series.push({name: 'frontier', type: 'line', z: 1, symbol: 'none',
                lineStyle: {type: 'dashed', width: 2, color: '#2ca02c'}, itemStyle: {color: '#2ca02c'},
                data: front.map(p => [us(p.p50), us(p.cpu)])});
              const xs = plotted.flatMap(p => [us(p.p50), us(Math.max(p.p99, p.p50))]);
              const ys = plotted.map(p => us(p.cpu));
              const chart = echarts.init(document.getElementById('frontier'), null, {renderer: 'svg'});
              chart.on('finished', measureLabels);
              chart.setOption({
                animation: false,
                legend: {top: 5},
                tooltip: {trigger: 'item', formatter: p => p.seriesType === 'scatter'
                  ? p.name + ': p50 ' + fmt(p.value[0]) + ' us, p99 ' + fmt(p.value[2]) + ' us, CPU/msg ' + fmt(p.value[1]) + ' us'
                  : p.seriesName},
                grid: {left: 90, right: 170, top: 50, bottom: 70},
                xAxis: {type: 'log', min: lo(xs), max: hi(xs), name: 'paced round-trip latency (us)',
                  nameLocation: 'middle', nameGap: 35},
                yAxis: {type: 'log', min: lo(ys), max: hi(ys), name: 'responder CPU per message (us)',
                  nameLocation: 'middle', nameGap: 60},
                series: series
              });
              chart.setOption({graphic: placeLabels(chart, plotted, {left: 90, top: 50, bottom: 70})});
              rendered++;
            }
            const pct = v => (100 - 100 / v).toFixed(Math.max(0, Math.round(Math.log10(v)) - 2)) + '%';
            for (const f of families) {
              const el = document.getElementById('dist-' + f);
              if (!el) { report('no chart element for family ' + f); continue; }
              const mine = points.filter(p => p.family === f && p.dist.length);
              const rows = mine.flatMap(p => p.dist.filter(r => r[0] < 100));
              if (!rows.length) { continue; }
              const xs = rows.map(r => 1 / (1 - r[0] / 100));
              const ys = rows.map(r => us(r[1]));
              const chart = echarts.init(el, null, {renderer: 'svg'});
              chart.setOption({
                animation: false,
                title: {text: f, left: 'center', textStyle: {fontSize: 13}},
                legend: {top: 25, type: 'scroll'},
                tooltip: {trigger: 'item', formatter: p => p.seriesName + ': ' + pct(p.value[0]) + ' at ' + fmt(p.value[1]) + ' us'},
                grid: {left: 80, right: 40, top: 65, bottom: 60},
                xAxis: {type: 'log', min: 1, max: hi(xs), name: 'percentile', nameLocation: 'middle', nameGap: 32,
                  axisLabel: {formatter: pct}},
                yAxis: {type: 'log', min: lo(ys), max: hi(ys), name: 'latency (us)', nameLocation: 'middle', nameGap: 50},
                series: mine.map(p => ({name: p.name, type: 'line', showSymbol: false,
                  data: p.dist.filter(r => r[0] < 100).map(r => [1 / (1 - r[0] / 100), us(r[1])])}))
              });
              rendered++;
            }
            for (const op of Object.keys(LAB.sim)) {
              const el = document.getElementById('sim-' + op);
              if (!el) { report('no chart element for simulated ' + op); continue; }
              const lines = LAB.sim[op];
              const all = Object.values(lines).flat();
              const xs = all.map(r => r[0]);
              const ys = all.map(r => us(r[1]));
              const chart = echarts.init(el, null, {renderer: 'svg'});
              chart.setOption({
                animation: false,
                title: {text: 'simulated ' + op, left: 'center', textStyle: {fontSize: 13}},
                legend: {top: 25},
                tooltip: {trigger: 'item', formatter: p => p.seriesName + ': ' + p.value[0] + ' cores, ' + fmt(p.value[1]) + ' us'},
                grid: {left: 80, right: 40, top: 65, bottom: 60},
                xAxis: {type: 'log', logBase: 2, min: Math.min.apply(null, xs), max: Math.max.apply(null, xs),
                  name: 'cores', nameLocation: 'middle', nameGap: 32},
                yAxis: {type: 'log', min: lo(ys), max: hi(ys), name: 'virtual latency (us)', nameLocation: 'middle', nameGap: 50},
                series: Object.keys(lines).map(name => ({name: name, type: 'line', symbolSize: 6,
                  data: lines[name].slice().sort((a, b) => a[0] - b[0]).map(r => [r[0], us(r[1])])}))
              });
              rendered++;
            }
          } catch (e) {
            report('error: ' + (e && e.stack ? e.stack : e));
          }
          document.body.dataset.rendered = String(rendered);
        })();
        """;
}
