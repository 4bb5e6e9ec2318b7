#!/usr/bin/env python3
"""The status page in a real browser (slow tier; run by Tools/test-browser.sh, which installs
Chromium and builds chorusd). A devnet runs until its first final epoch; headless Chromium then
takes a screenshot of node 1's status page and dumps its DOM after the page's script ran.

Checks:
  screenshot  the PNG decodes (stdlib zlib, all five scanline filters), has the window's size, and
              is not blank: many distinct colours, a large share of pixels off the background, and
              a spread of brightness
  dom         the live data is in the page: the node's key, the current epoch (as /status.json
              says, or the next), the last final epoch, the peer count, a weight table row for this
              node and a PoC bar chart per model; no error banner, no uncaught script error
  audit index a verify-only node beside the devnet writes DATA_DIR/audit/index.html: its
              screenshot is not blank and it links epoch 1's report, which exists

    Tools/test-browser.sh [--out DIR] [--nodes 5] [--base-port P] [--timeout 300]

Prints a JSON summary on stdout (the screenshot's path among it); exits 1 when a check fails.
"""

import argparse
import html.parser
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import zlib

from devnet_harness import ROOT, free_port_range, logger

log = logger("browser-check")
WINDOW = (1400, 2200)


def decode_png(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit truecolour PNG, without dependencies."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
            elif kind != 0:
                raise ValueError(f"unknown PNG filter {kind}")
        rows.append(bytes(line))
        previous = line
    return width, height, bpp, rows


def measure(path):
    """Distinct colours, the share of pixels unlike the most common one, and the brightness spread."""
    width, height, bpp, rows = decode_png(path)
    counts = {}
    total = luminance = luminance2 = 0
    for row in rows:
        for x in range(0, width * bpp, bpp):
            rgb = row[x:x + 3]
            counts[rgb] = counts.get(rgb, 0) + 1
            y = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
            luminance += y
            luminance2 += y * y
            total += 1
    background = max(counts.values())
    mean = luminance / total
    return {"width": width, "height": height, "colours": len(counts), "off_background": round(1 - background / total, 4),
            "luminance_stddev": round(max(luminance2 / total - mean * mean, 0) ** 0.5, 2)}


class Texts(html.parser.HTMLParser):
    """The text inside each element with an id (nested text included), and every id seen."""

    def __init__(self):
        super().__init__()
        self.stack, self.texts, self.styles = [], {}, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.stack.append((tag, attrs.get("id")))
        if attrs.get("id"):
            self.texts.setdefault(attrs["id"], "")
            self.styles[attrs["id"]] = attrs.get("style") or ""
        if tag in ("br", "meta", "img", "input", "hr", "link"):
            self.stack.pop()

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, element in self.stack:
            if element:
                self.texts[element] += data


def ports_free(ports):
    for p in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


def status(url):
    with urllib.request.urlopen(url + "status.json", timeout=5) as r:
        return json.load(r)


def chromium(binary, url, *flags, timeout=120):
    command = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
               f"--window-size={WINDOW[0]},{WINDOW[1]}", "--virtual-time-budget=7000", *flags, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def start_auditor(o, base, devnet_dir, directory, devnet):
    """A verify-only node beside the devnet (port base + nodes + 1, seeded with node 1), once the
    devnet has written its network file: it writes an audit report per final epoch and the index."""
    network = os.path.join(devnet_dir, "network.toml")
    for _ in range(60):
        if os.path.exists(network) or devnet.poll() is not None:
            break
        time.sleep(0.5)
    chorusd = os.path.join(o.bin, "chorusd")
    shutil.rmtree(directory, ignore_errors=True)
    subprocess.run([chorusd, "init", "--data-dir", directory, "--listen", f"127.0.0.1:{base + o.nodes + 1}"],
                   check=True, capture_output=True)
    return subprocess.Popen([chorusd, "run", "--data-dir", directory, "--verify-only", "--network-file", network,
                             "--seed", f"127.0.0.1:{base + 1}", "--admin-listen", "off"],
                            stdout=open(os.path.join(directory, "chorusd.log"), "w"), stderr=subprocess.STDOUT)


def check_audit_index(o, directory, results):
    """The auditor's index page in the browser: not blank, and a link to epoch 1's report, which exists."""
    index = os.path.join(directory, "audit", "index.html")
    for _ in range(60):
        if os.path.exists(index) and 'href="epoch-1.html"' in open(index).read():
            break
        time.sleep(1)
    else:
        return [f"audit index: no {index} linking epoch 1 within 60 s"]
    png = os.path.join(o.out, "audit-index.png")
    if os.path.exists(png):
        os.remove(png)
    chromium(o.chromium, "file://" + index, f"--screenshot={png}")
    if not os.path.exists(png):
        return ["audit index: chromium wrote no screenshot"]
    m = measure(png)
    dom = chromium(o.chromium, "file://" + index, "--dump-dom").stdout
    checks = {
        "size": (m["width"], m["height"]) == WINDOW,
        "not_blank": m["colours"] >= 10 and m["off_background"] >= 0.005,
        "links_epoch_1": 'href="epoch-1.html"' in dom and os.path.exists(os.path.join(directory, "audit", "epoch-1.html")),
    }
    results["audit_index"] = {"path": index, "screenshot": png, **m}
    results["checks"]["audit_index"] = checks
    return [f"audit index {k}: {m}" for k, ok in checks.items() if not ok]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, ".build", "browser-check"), help="screenshot, DOM and devnet data go here")
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--base-port", type=int, default=0, help="node i on base+i, its admin listener on base+i+2000 (0: free ports)")
    parser.add_argument("--timeout", type=int, default=300, help="seconds to wait for the first final epoch")
    parser.add_argument("--bin", default=os.path.join(ROOT, ".build", "release"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    o = parser.parse_args()

    base = o.base_port
    while not base:
        candidate = free_port_range(o.nodes + 1)
        if ports_free(range(candidate + 2000, candidate + 2001 + o.nodes)):
            base = candidate
    os.makedirs(o.out, exist_ok=True)
    devnet_dir = os.path.join(o.out, "devnet")
    shutil.rmtree(devnet_dir, ignore_errors=True)
    url = f"http://127.0.0.1:{base + 1 + 2000}/"
    log(f"devnet of {o.nodes} nodes on 127.0.0.1:{base + 1}…; node 1's status page {url}")
    devnet_log = open(os.path.join(o.out, "devnet.log"), "w")
    devnet = subprocess.Popen([os.path.join(o.bin, "chorusd"), "devnet", "--nodes", str(o.nodes), "--dir", devnet_dir,
                               "--base-port", str(base), "--api-base-port", "0", "--duration", str(o.timeout + 120)],
                              stdout=devnet_log, stderr=subprocess.STDOUT, cwd=ROOT)
    results = {"url": url, "checks": {}}
    failures = []
    auditor = None
    try:
        started = time.time()
        auditor_dir = os.path.join(o.out, "auditor")
        auditor = start_auditor(o, base, devnet_dir, auditor_dir, devnet)
        snapshot = None
        while time.time() - started < o.timeout:
            if devnet.poll() is not None:
                raise SystemExit(f"browser-check: the devnet exited ({devnet.returncode}); see {devnet_log.name}")
            try:
                snapshot = status(url)
                timeline = (snapshot.get("node") or {}).get("timeline") or {}
                if (timeline.get("last_final_epoch") or 0) >= 1 and snapshot["node"].get("weights"):
                    break
            except OSError:
                pass
            time.sleep(2)
        else:
            raise SystemExit(f"browser-check: no final epoch within {o.timeout} s; see {devnet_log.name}")
        results["first_final_after_s"] = round(time.time() - started, 1)
        node = snapshot["node"]
        log(f"epoch {node['timeline']['current']}, last final {node['timeline']['last_final_epoch']} after "
            f"{results['first_final_after_s']} s; taking the screenshot")

        png = os.path.join(o.out, "status-page.png")
        if os.path.exists(png):
            os.remove(png)
        shot = chromium(o.chromium, url, f"--screenshot={png}")
        if not os.path.exists(png):
            raise SystemExit(f"browser-check: chromium wrote no screenshot (exit {shot.returncode}): {shot.stderr[-2000:]}")
        m = measure(png)
        results["screenshot"] = {"path": png, **m}
        checks = {
            "size": (m["width"], m["height"]) == WINDOW,
            "colours": m["colours"] >= 50,
            "off_background": m["off_background"] >= 0.15,
            "luminance_stddev": m["luminance_stddev"] >= 20,
        }
        results["checks"]["screenshot"] = checks
        failures += [f"screenshot {k}: {m}" for k, ok in checks.items() if not ok]

        after = status(url)["node"]
        with urllib.request.urlopen(url + "status.json", timeout=5) as r:
            results["status_json_bytes"] = len(r.read())
        # Console messages (an uncaught script error among them) go to stderr with --enable-logging.
        dom = chromium(o.chromium, url, "--dump-dom", "--enable-logging=stderr", "--v=0")
        open(os.path.join(o.out, "status-page.html"), "w").write(dom.stdout)
        open(os.path.join(o.out, "chromium.log"), "w").write(dom.stderr)
        parsed = Texts()
        parsed.feed(dom.stdout)
        t = parsed.texts
        epochs = {str(node["timeline"]["current"]), str(after["timeline"]["current"]), str(after["timeline"]["current"] + 1)}
        own = after["status"]["public_key"][:12]
        checks = {
            "node_key": t.get("node-id", "").startswith(own),
            "current_epoch": t.get("current-epoch", "").strip() in epochs,
            "last_final_epoch": t.get("last-final-epoch", "").strip().isdigit() and int(t["last-final-epoch"]) >= 1,
            "peer_count": t.get("peer-count", "").strip().isdigit() and int(t["peer-count"]) >= 1,
            "weight_table": own in t.get("weight-table", "") and "this node" in t.get("weight-table", ""),
            "bar_charts": t.get("weight-charts", "").count("PoC weight: ") == len(after["models"]),
            "epoch_strip": "final" in t.get("epoch-strip", ""),
            "no_banner": "display: none" in parsed.styles.get("banner", "") or not t.get("banner", "").strip(),
            "no_script_error": "Uncaught" not in dom.stderr,
        }
        results["checks"]["dom"] = checks
        results["dom"] = {k: t.get(k, "").strip()[:80] for k in ["node-id", "current-epoch", "current-stage", "last-final-epoch", "peer-count"]}
        failures += [f"dom {k}: {results['dom']}" for k, ok in checks.items() if not ok]
        failures += check_audit_index(o, auditor_dir, results)
    finally:
        if auditor:
            auditor.send_signal(signal.SIGINT)
            try:
                auditor.wait(timeout=30)
            except subprocess.TimeoutExpired:
                auditor.kill()
        devnet.send_signal(signal.SIGINT)
        try:
            devnet.wait(timeout=60)
        except subprocess.TimeoutExpired:
            devnet.kill()
        devnet_log.close()

    results["ok"] = not failures
    print(json.dumps(results, indent=2))
    for f in failures:
        log(f"FAILED {f}")
    log("ok" if not failures else f"{len(failures)} checks failed")
    sys.exit(0 if not failures else 1)


if __name__ == "__main__":
    main()
