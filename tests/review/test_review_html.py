#!/usr/bin/python3
"""test_review_html.py - renders `mfbench report --format html` in headless
Chromium (Debian's chromium): a screenshot is taken, the DOM holds the charts
(an svg per chart with a viewBox and width 100%, a series per framework), and
the page does not overflow horizontally at a wide and a narrow width. The page
itself has no script; the overflow check runs on a copy with one appended.
Skipped (exit 77) when chromium is not installed. REVIEW_KEEP=DIR keeps the
page and screenshots there."""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

MFBENCH = os.environ["MFBENCH"]
FILL = os.environ["REVIEW_FILL"]
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
           "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


OVERFLOW_PROBE = """<script>
window.addEventListener('load', function () {
  var d = document.documentElement, over = [];
  document.querySelectorAll('svg.chart, figure, .tablewrap, section').forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.right > d.clientWidth + 1 || r.left < -1) over.push(e.id || e.tagName);
  });
  document.body.setAttribute('data-probe',
    'scroll=' + d.scrollWidth + ' client=' + d.clientWidth + ' over=' + over.join(','));
});
</script></body>"""


def main():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("chromium is not installed: skipped", file=sys.stderr)
        return 77
    tmp = tempfile.mkdtemp(prefix="mfbench-review-html-")
    keep = os.environ.get("REVIEW_KEEP")
    db = os.path.join(tmp, "results.db")
    subprocess.run([FILL, "--fill", db], check=True, timeout=60)
    out = os.path.join(tmp, "report")
    p = subprocess.run([MFBENCH, "report", "--format", "html", "-o", out, "--store", db],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"report html: {p.stderr}")
    page = os.path.join(out, "index.html")
    html = open(page, encoding="utf-8").read()
    check("<script" not in html.lower(), "the page has no script")
    check(not re.search(r'(src|href)=["\']?(https?:)?//', html), "no external asset")

    rc, dom, err = chromium(browser, tmp, "--dump-dom", "file://" + page)
    check(rc == 0 and "<svg" in dom, f"dump-dom worked: {err[-500:]}")
    svgs = re.findall(r"<svg\b[^>]*>", dom)
    charts = [s for s in svgs if 'class="chart' in s]
    # the heatmap, then per payload rps, p99, spectrum, capacity, rss and a history per cell
    ids = re.findall(r'<svg[^>]*\bid="([^"]+)"', " ".join(charts))
    want = ["heatmap"] + [f"p{i}-{k}" for i in (0, 1)
                          for k in ("rps", "p99", "spectrum", "capacity", "rss", "history-0")]
    check(all(w in ids for w in want), f"the charts {want}, got {ids}")
    for s in charts:
        check(re.search(r'viewBox="0 0 \d+ \d+"', s) is not None, f"viewBox on {s}")
        check('width="100%"' in s, f"width 100% on {s}")
    rps = re.search(r'<svg[^>]*id="p0-rps".*?</svg>', dom, re.S)
    check(rps is not None, "the req/s chart of the first payload")
    if rps:
        names = re.findall(r'<g class="series" data-name="([^"]*)"', rps.group(0))
        check(names[:2] == ["flask", "bottle"] and "&lt;b&gt;x&amp;y&lt;/b&gt;" in names,
              f"series per framework, escaped: {names}")
        check(len(re.findall(r'class="pt[ "]', rps.group(0))) >= 8, "markers")
        check("<polyline" in rps.group(0), "lines")
        check(rps.group(0).count('class="tick"') >= 6, "ticks")
        check('class="legend"' in rps.group(0), "a legend")
    hist = re.search(r'<svg[^>]*id="p0-history-0".*?</svg>', dom, re.S)
    check(hist is not None and 'data-name="flask"' in hist.group(0), "history lines")
    check("<b>x" not in dom, "the framework name is escaped")

    shot = os.path.join(tmp, "shot.png")
    rc, _, err = chromium(browser, tmp, f"--screenshot={shot}", "--window-size=1280,2000",
                          "file://" + page)
    check(rc == 0 and os.path.exists(shot), f"screenshot: {err[-500:]}")
    if os.path.exists(shot):
        check(png_size(shot) == (1280, 2000), f"screenshot size {png_size(shot)}")
        check(os.path.getsize(shot) > 20000, "the screenshot is not blank")

    probe = os.path.join(out, "probe.html")
    with open(probe, "w", encoding="utf-8") as f:
        f.write(html.replace("</body>", OVERFLOW_PROBE))
    for width in (1280, 420):
        rc, dom, err = chromium(browser, tmp, f"--window-size={width},2000",
                                "--virtual-time-budget=3000", "--dump-dom", "file://" + probe)
        m = re.search(r'data-probe="scroll=(\d+) client=(\d+) over=([^"]*)"', dom)
        check(m is not None, f"the probe ran at {width}px: {err[-300:]}")
        if m:
            check(int(m.group(1)) <= int(m.group(2)) and m.group(3) == "",
                  f"no horizontal overflow at {width}px: {m.group(0)}")
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(page, keep)
        shutil.copy(shot, keep)
        chromium(browser, tmp, f"--screenshot={os.path.join(keep, 'narrow.png')}",
                 "--window-size=420,2000", "file://" + page)
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{checks} checks, {failures} failed", file=sys.stderr)
    return 1 if failures or not checks else 0


if __name__ == "__main__":
    sys.exit(main())
