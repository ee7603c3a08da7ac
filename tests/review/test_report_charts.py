#!/usr/bin/python3
"""test_report_charts.py - the report's charts as a browser draws them: a store
with known values (charts_fixture.py) is rendered by `mfbench report --format
html`, then headless Chromium loads a copy of the page with a probe script
appended (the page itself has none) at a 360 px wide window; the probe reads the
laid-out DOM (bands, log2 ticks, the spectrum's p99.9 tick, hollow points,
probes, the node-change marker, the heatmap) and measures every element's box,
and writes its findings into the DOM that --dump-dom returns. A screenshot at
360 px is kept in $ARTEFACTS (the build's meson-logs) and its path printed.
Skipped (77) without chromium."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import charts_fixture  # noqa: E402

MFBENCH = os.environ["MFBENCH"]
WIDTH = 360
failures = 0
checks = 0


def check(cond, what):
    global failures, checks
    checks += 1
    if not cond:
        failures += 1
        print(f"FAIL: {what}", file=sys.stderr)


def chromium(browser, tmp, *args):
    profile = tempfile.mkdtemp(prefix="profile-", dir=tmp)
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", "--hide-scrollbars", "--force-device-scale-factor=1",
           f"--user-data-dir={profile}", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


# Runs after layout; every answer comes from the live DOM and its boxes.
PROBE = r"""<script>
window.addEventListener('load', function () {
  function q(s, root) { return Array.prototype.slice.call((root || document).querySelectorAll(s)); }
  function attr(e, a) { return e.getAttribute(a); }
  var vw = window.innerWidth, res = {};
  res.inner = vw;
  res.scroll = document.documentElement.scrollWidth;
  /* Every element inside the viewport, but for what a scroll box (a wide
     table's wrapper) keeps inside itself; every SVG part inside its <svg>. */
  var over = [], clipped = [];
  q('body *').forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return;
    for (var a = e.parentElement; a; a = a.parentElement) {
      var ox = getComputedStyle(a).overflowX;
      if (a.namespaceURI !== 'http://www.w3.org/2000/svg' && (ox === 'auto' || ox === 'scroll')) return;
    }
    if (r.right > vw + 0.5 || r.left < -0.5)
      over.push(e.tagName + '#' + (e.id || '') + '.' + (attr(e, 'class') || '') + ' ' +
                Math.round(r.left) + '..' + Math.round(r.right));
    var svg = e.ownerSVGElement;
    if (svg && e.tagName !== 'title' && e.tagName !== 'pattern' && !e.closest('defs')) {
      var s = svg.getBoundingClientRect();
      if (r.right > s.right + 1 || r.left < s.left - 1 || r.bottom > s.bottom + 1 || r.top < s.top - 1)
        clipped.push(svg.id + ' ' + e.tagName + '.' + (attr(e, 'class') || '') + ' "' +
                     (e.textContent || '').slice(0, 40) + '"');
    }
  });
  res.over = over.slice(0, 20);
  res.clipped = clipped.slice(0, 20);
  res.charts = q('svg.chart').map(function (s) {
    return {id: s.id, w: s.getBoundingClientRect().width, viewBox: attr(s, 'viewBox')};
  });
  ['rps', 'p99'].forEach(function (k) {
    var svg = document.getElementById('p0-' + k), o = {};
    if (!svg) return;
    /* user-unit vertices: the band's upper edge left to right, then the lower back */
    function pts(e) {
      var o = [];
      for (var i = 0; i < e.points.numberOfItems; i++)
        o.push([e.points.getItem(i).x, e.points.getItem(i).y]);
      return o;
    }
    function centre(e) { var b = e.getBBox(); return [b.x + b.width / 2, b.y + b.height / 2]; }
    o.bands = q('polygon.band', svg).map(function (b) {
      var bb = b.getBBox();
      return {fw: attr(b, 'data-framework'), h: bb.height, w: bb.width, pts: pts(b)};
    });
    o.ticks = q('g.tick-x', svg).map(function (t) {
      return {cls: attr(t, 'class'), v: attr(t, 'data-value'), label: t.textContent,
              x: t.querySelector('line').getBoundingClientRect().left};
    });
    o.hollow = q('.pt.hollow', svg).map(function (p) {
      return [attr(p, 'data-framework'), +attr(p, 'data-users'), attr(p, 'data-flags'),
              getComputedStyle(p).fill];
    });
    o.pts = q('.pt', svg).map(function (p) {
      return [attr(p, 'data-framework'), +attr(p, 'data-users'), +attr(p, 'data-value'),
              +attr(p, 'data-min'), +attr(p, 'data-max'), centre(p)];
    });
    o.probes = q('.probe', svg).map(function (p) {
      return [attr(p, 'data-framework'), +attr(p, 'data-users'), p.tagName];
    });
    o.medians = q('polyline.median', svg).map(function (l) {
      var xs = [];
      for (var i = 0; i < l.points.numberOfItems; i++) xs.push(l.points.getItem(i).x);
      return {fw: attr(l, 'data-framework'), xs: xs, pts: pts(l)};
    });
    o.legend = q('.legend text', svg).map(function (t) { return t.textContent; });
    res[k] = o;
  });
  var sp = document.getElementById('p0-spectrum');
  if (sp) res.spectrum = {
    ticks: q('g.spectrum-tick', sp).map(function (t) {
      return {q: attr(t, 'data-q'), label: t.textContent,
              x: t.querySelector('line').getBoundingClientRect().left};
    }),
    series: q('g.series', sp).map(function (g) {
      return [attr(g, 'data-name'), +attr(g, 'data-pct-of-peak'), q('.pt', g).length];
    })
  };
  res.history = q('svg.history[id^="p0-"]').map(function (s) {
    return {
      title: s.querySelector('title').textContent,
      fp: q('g.fp-change', s).map(function (g) {
        return {run: +attr(g, 'data-run'), what: g.querySelector('title').textContent,
                x: g.getBoundingClientRect().left};
      }),
      flagged: q('.pt.flagged', s).map(function (p) {
        return [+attr(p, 'data-run'), p.classList.contains('node-changed'),
                getComputedStyle(p).fill];
      }),
      runs: q('.pt', s).map(function (p) {
        return [+attr(p, 'data-run'), p.getBoundingClientRect().left];
      }),
      band: q('polygon.reg-band', s).length,
      ticks: q('g.tick-x', s).map(function (t) { return [attr(t, 'data-value'), t.textContent]; })
    };
  });
  res.heat = q('#heatmap g.heat-cell').map(function (g) {
    return {fw: attr(g, 'data-framework'), pl: attr(g, 'data-payload'),
            best: g.classList.contains('best'), pct: attr(g, 'data-pct'),
            text: q('text', g).map(function (t) { return t.textContent; })};
  });
  parent.postMessage(JSON.stringify(res), '*');
});
</script></body>"""


FRAME = """<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body style="margin:0;background:#888"><iframe src="{src}"
style="width:{width}px;height:4000px;border:0;display:block;background:#fff"></iframe>
<pre id="probe-result"></pre><script>
window.addEventListener('message', function (e) {{
  document.getElementById('probe-result').textContent = e.data;
}});
</script></body></html>
"""


def dom_checks(res, expect):
    check(res["inner"] == WIDTH, f"the window is {WIDTH} px wide: {res['inner']}")
    check(res["scroll"] <= WIDTH, f"no horizontal scroll at {WIDTH} px: {res['scroll']}")
    check(not res["over"], f"every element within {WIDTH} px: {res['over']}")
    check(not res["clipped"], f"every SVG part inside its chart: {res['clipped']}")
    for c in res["charts"]:
        check(0 < c["w"] <= WIDTH and c["viewBox"], f"chart {c['id']} fits: {c}")
    fws = expect["frameworks"]
    powers = [str(v) for v in expect["log2_ticks"]]
    for k in ("rps", "p99"):
        o = res.get(k)
        check(o is not None, f"the {k} chart")
        if not o:
            continue
        check(sorted(b["fw"] for b in o["bands"]) == fws, f"{k}: a band per framework: {o['bands']}")
        check(all(b["h"] > 1 and b["w"] > 10 for b in o["bands"]), f"{k}: bands with an area")
        check([t["v"] for t in o["ticks"]] == powers and all("log2" in t["cls"] for t in o["ticks"]),
              f"{k}: log2 ticks at powers of two: {[t['v'] for t in o['ticks']]}")
        labelled = [t["label"] for t in o["ticks"] if t["label"]]
        check(labelled and all(lab in powers for lab in labelled) and "16" in labelled,
              f"{k}: ticks labelled 8, 16, 32...: {labelled}")
        xs = [t["x"] for t in o["ticks"]]
        gaps = [b - a for a, b in zip(xs, xs[1:])]
        check(gaps and max(gaps) - min(gaps) < 1.5, f"{k}: powers of two evenly spaced: {gaps}")
        hollow = sorted((h[0], h[1], h[2]) for h in o["hollow"])
        check(hollow == sorted(expect["hollow"]), f"{k}: hollow points: {hollow}")
        check(all(h[3] in ("rgb(255, 255, 255)", "#fff") for h in o["hollow"]),
              f"{k}: hollow points drawn white inside: {o['hollow']}")
        for fw in fws:
            n = sum(1 for p in o["probes"] if p[0] == fw)
            check(n == expect["probes"][fw], f"{k}: {n} probe markers of {fw}")
        check(all(p[2] == "polygon" for p in o["probes"]), f"{k}: probes are their own shape")
        check(not any(p[1] in (320, 384, 448) for p in o["pts"]), f"{k}: probes not on the line")
        for m in o["medians"]:
            check(all(b > a for a, b in zip(m["xs"], m["xs"][1:])),
                  f"{k}: {m['fw']}'s median line goes left to right (no zig-zag): {m['xs']}")
            # the line passes through each level's median marker, and the band
            # spans that level's min..max around it
            mine = [p for p in o["pts"] if p[0] == m["fw"]]
            band = next((b["pts"] for b in o["bands"] if b["fw"] == m["fw"]), [])
            check(len(mine) == len(m["pts"]) and len(band) == 2 * len(mine),
                  f"{k}: {m['fw']}: a vertex per level on the line and on both band edges")
            for i, (p, (lx, ly)) in enumerate(zip(mine, m["pts"])):
                check(abs(p[5][0] - lx) < 0.2 and abs(p[5][1] - ly) < 0.2,
                      f"{k}: {m['fw']} at {p[1]} users: the line is at the median marker")
                if len(band) == 2 * len(mine):
                    hi, lo = band[i][1], band[-1 - i][1]
                    # (p99's small spreads are thinner than the 0.1 unit the
                    # points are written with: the thickness is checked on req/s)
                    want = p[4] > p[3] if k == "rps" else lo - hi > 1
                    check(lo >= ly >= hi and ((lo - hi > 1) == want),
                          f"{k}: {m['fw']} at {p[1]} users: the band spans min..max "
                          f"({hi:.1f}..{lo:.1f} around {ly:.1f})")
        check(any("bisection probe" in t for t in o["legend"]) and
              any("hollow" in t for t in o["legend"]), f"{k}: legend: {o['legend']}")
    rps = res.get("rps") or {"pts": []}
    for fw, peak in expect["peak_median"].items():
        at = [p for p in rps["pts"] if p[0] == fw and p[1] == 128]
        check(at and abs(at[0][2] - peak) < 1e-6 and abs(at[0][3] - peak * 0.9) < 1e-6 and
              abs(at[0][4] - peak * 1.1) < 1e-6,
              f"{fw} at 128 users: median {peak}, band {peak * 0.9}..{peak * 1.1}: {at}")
    sp = res.get("spectrum")
    check(sp is not None, "the spectrum chart")
    if sp:
        t = {x["q"]: x for x in sp["ticks"]}
        check(t.get("0.999", {}).get("label") == "99.9%", f"the spectrum's p99.9 tick: {sp['ticks']}")
        check([x["label"] for x in sp["ticks"]] == ["50%", "90%", "99%", "99.9%"],
              f"nines ticks: {sp['ticks']}")
        if len(t) == 4:
            gaps = [t["0.99"]["x"] - t["0.9"]["x"], t["0.999"]["x"] - t["0.99"]["x"]]
            check(abs(gaps[0] - gaps[1]) < 1.5, f"one nine = one step: {gaps}")
        check(sorted(s[0] for s in sp["series"]) == fws and all(s[1] == 90 and s[2] == 4
                                                                for s in sp["series"]),
              f"a spectrum per framework at 90% of peak: {sp['series']}")
    hist = res.get("history", [])
    check(len(hist) == len(fws), f"a history chart per cell: {[h['title'] for h in hist]}")
    for h in hist:
        check(len(h["runs"]) == expect["runs"], f"{h['title']}: {len(h['runs'])} runs drawn")
        xs = [x for _, x in h["runs"]]
        check(all(b > a for a, b in zip(xs, xs[1:])), f"{h['title']}: by date, left to right")
        at = dict(h["runs"])
        g = expect["gap_after"]
        if g in at and g + 1 in at and g - 1 in at:
            day, gap = at[g] - at[g - 1], at[g + 1] - at[g]
            check(abs(gap - 4 * day) < 1.5, f"{h['title']}: x is the date: a day is {day:.1f} px, "
                  f"the four days after run {g} {gap:.1f} px")
        check([f["run"] for f in h["fp"]] == [expect["fp_change_run"]],
              f"{h['title']}: the node change before run {expect['fp_change_run']}: {h['fp']}")
        if h["fp"]:
            before = dict(h["runs"])
            check(before[expect["fp_change_run"] - 1] < h["fp"][0]["x"] <
                  before[expect["fp_change_run"]], "the marker sits between the two runs")
            check("cpu model" in h["fp"][0]["what"], f"it says what changed: {h['fp'][0]}")
        check(h["band"] >= 1, f"{h['title']}: the regression band")
        check(h["ticks"] and all(re.fullmatch(r"\d{4}-\d\d-\d\d", v) for v, _ in h["ticks"]),
              f"{h['title']}: date ticks: {h['ticks']}")
        # flask's drop is a regression (filled); tornado's was judged against
        # runs on the other node: "node changed", hollow, as history says
        flask = h["title"].startswith("flask")
        want = [[expect["flagged_run"], False, "rgb(170, 0, 0)"]] if flask else \
            [[expect["node_flag_run"], True, "rgb(255, 255, 255)"]]
        check(h["flagged"] == want, f"{h['title']}: flagged points {h['flagged']}, want {want}")
    heat = {(c["fw"], c["pl"]): c for c in res.get("heat", [])}
    check(len(heat) == 4, f"a heatmap cell per framework and payload: {list(heat)}")
    for pl, fw in expect["heat_best"].items():
        c = heat.get((fw, pl), {})
        check(c.get("best") and c.get("text", [""])[0] == "100%", f"the best of {pl} = 100%: {c}")
    for (fw, pl), pct in expect["heat_pct"].items():
        c = heat.get((fw, pl), {})
        check(not c.get("best") and c.get("text", [""])[0] == f"{pct}%",
              f"{fw}/{pl} is {pct}% of the best: {c}")


def main():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("chromium is not installed: skipped", file=sys.stderr)
        return 77
    tmp = tempfile.mkdtemp(prefix="mfbench-report-charts-")
    db = os.path.join(tmp, "results.db")
    expect = charts_fixture.build(MFBENCH, db)
    out = os.path.join(tmp, "report")
    p = subprocess.run([MFBENCH, "report", "--format", "html", "-o", out, "--store", db],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"report html: {p.stderr}")
    page = os.path.join(out, "index.html")
    html = open(page, encoding="utf-8").read()
    check("<script" not in html.lower(), "the page has no script")
    check(not re.search(r'(src|href)=["\']?(https?:)?//', html), "no external asset")

    # Chromium's window is at least 500 px wide: the page is measured in a
    # 360 px wide frame, its own viewport, and posts its findings out of it.
    probe = os.path.join(out, "probe.html")
    with open(probe, "w", encoding="utf-8") as f:
        f.write(html.replace("</body>", PROBE))
    for name, src in (("frame.html", "probe.html"), ("shot.html", "index.html")):
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write(FRAME.format(src=src, width=WIDTH))
    rc, dom, err = chromium(browser, tmp, "--window-size=600,2000", "--virtual-time-budget=8000",
                            "--dump-dom", "file://" + os.path.join(out, "frame.html"))
    m = re.search(r'<pre id="probe-result">(.+?)</pre>', dom, re.S)
    check(m is not None, f"the probe ran: rc {rc} {err[-500:]}")
    if m:
        res = json.loads(m.group(1).replace("&lt;", "<").replace("&gt;", ">")
                         .replace("&quot;", '"').replace("&amp;", "&"))
        dom_checks(res, expect)

    art = os.environ.get("ARTEFACTS") or tmp
    os.makedirs(art, exist_ok=True)
    shot = os.path.join(art, "report_charts_360.png")
    rc, _, err = chromium(browser, tmp, f"--screenshot={shot}", f"--window-size={WIDTH},4000",
                          "file://" + os.path.join(out, "shot.html"))
    check(rc == 0 and os.path.exists(shot) and os.path.getsize(shot) > 20000,
          f"screenshot: {err[-300:]}")
    shutil.copy(page, os.path.join(art, "report_charts.html"))
    print(f"screenshot at {WIDTH} px: {shot}; the page: {os.path.join(art, 'report_charts.html')}",
          file=sys.stderr)
    if failures == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"kept {tmp}", file=sys.stderr)
    print(f"{checks} checks, {failures} failed", file=sys.stderr)
    return 1 if failures or not checks else 0


if __name__ == "__main__":
    sys.exit(main())
