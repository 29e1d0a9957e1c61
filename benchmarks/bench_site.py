"""Budgets of the public site on ``edomex-2024``: bytes that change between two consecutive
mid-night cuts, first-view weight and requests (before the first render, and with what follows
it: the signature check and the night's history), the time from the first render to the
verified signature, the Mi sección index, data requests of later views, and the time to render
the largest municipio in headless Chromium (Debian's ``/usr/bin/chromium``).

    .venv/bin/python benchmarks/bench_site.py [--profile edomex-2024] [--seed 2024] [--dir DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for tests.*

from tests.site.site_package import build_cut, publish
from tests.site.site_server import StaticServer

from prepcast.election import ElectionDir, cut_time, load_election_dir, tally_cut
from prepcast.election.synthetic import generate
from prepcast.formats.write_prep_csv import build_databases
from prepcast.site import SiteWriter, site_files

TARGET_NEW_ACTAS = 1100  # per election per cut, mid-night


def package_files(ed: ElectionDir, number: int) -> tuple[dict[str, bytes], float]:
    t0 = time.perf_counter()
    cut, site = build_cut(ed, number)
    took = time.perf_counter() - t0
    files = dict(site.files)
    bases = json.loads(files[site.main_fields["bases"]])["bases"]
    for z, b in zip(build_databases(cut), bases, strict=True):
        files[b["ruta"]] = z.data
    return files, took


def build_times(ed: ElectionDir, n: int) -> dict[str, float]:
    """CPU seconds of the site's data of cut n+1: from scratch, and with a night-long
    SiteWriter that already wrote cut n."""
    p = ed.proceso
    cuts = {k: tally_cut(p, ed.casillas, ed.feeds, cut_time(p, k), number=k) for k in (n, n + 1)}
    t0 = time.process_time()
    site_files(cuts[n + 1], [], [])
    fresh = time.process_time() - t0
    writer = SiteWriter()
    writer.files(cuts[n], [], [])
    t0 = time.process_time()
    writer.files(cuts[n + 1], [], [])
    return {"fresh": fresh, "writer": time.process_time() - t0}


def pick_cut(ed: ElectionDir) -> int:
    """The first cut n whose cut n -> n+1 brings the most actas per election (the peak hour),
    or about TARGET_NEW_ACTAS when several cuts do."""
    times = ed.proceso.cut_times()
    per_cut: list[int] = []
    for t in times:
        per_cut.append(min(sum(1 for a in feed if a.registro <= t) for feed in ed.feeds.values()))
    new = [per_cut[i + 1] - per_cut[i] for i in range(len(per_cut) - 1)]
    best = min(range(len(new)), key=lambda i: (abs(new[i] - TARGET_NEW_ACTAS), -new[i]))
    return best + 1  # cut numbers start at 1


def delta_figures(ed: ElectionDir, n: int) -> dict[str, Any]:
    old, _ = package_files(ed, n)
    new, took = package_files(ed, n + 1)
    full = sum(len(b) for b in new.values())
    changed = {p: b for p, b in new.items() if old.get(p) != b}
    delta = sum(len(b) for b in changed.values())
    by_kind: dict[str, int] = {}
    for p, b in changed.items():
        kind = ("db zips" if p.startswith("db/") else "acta segments" if "/actas/" in p
                else "ámbito files" if "/distrito/" in p or "/municipio/" in p else "other")  # fmt: skip
        by_kind[kind] = by_kind.get(kind, 0) + len(b)
    return {"cut": n + 1, "files": len(new), "full": full, "delta": delta, "changed": len(changed),
            "by_kind": by_kind, "build_s": took}  # fmt: skip


def browser_figures(ed: ElectionDir, number: int, root: Path) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    published = publish(ed, number, root)
    proceso = json.loads(published.site.files[published.site.main_fields["proceso"]])
    ayun = next(e for e in proceso["elecciones"] if e["id"] == "AYUN")
    catalog_sizes = {
        a["id"]: len(json.loads(published.site.files[a["catalogo"]])["casillas"]) for a in ayun["ambitos"]
    }
    largest = max(catalog_sizes, key=lambda k: catalog_sizes[k])
    out: dict[str, Any] = {"largest_municipio": largest, "casillas": catalog_sizes[largest]}
    with StaticServer(root) as srv, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )  # fmt: skip
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url[len(srv.url):].split("?")[0]))
        page.goto(srv.url + "index.html#/DIP_LOC")
        page.wait_for_selector('main[data-vista="DIP_LOC"]')
        page.wait_for_selector('body[data-firma="ok"]')
        page.wait_for_selector("main figure.historial[data-cortes]")
        page.wait_for_timeout(200)
        # Requests started before the first view was painted, and those after it.
        split = page.evaluate(_SPLIT_JS)
        first = ["index.html"] + [p[len(srv.url):].split("?")[0] for p in split["before"]]
        after = [p[len(srv.url):].split("?")[0] for p in split["after"]]
        out["first_requests"] = len(first)
        out["first_gzip"] = sum(len(gzip.compress((root / p).read_bytes(), 6)) for p in first)
        out["first_raw"] = sum((root / p).stat().st_size for p in first)
        out["after_requests"] = after
        out["after_gzip"] = sum(len(gzip.compress((root / p).read_bytes(), 6)) for p in first + after)
        checks = []
        for _ in range(7):  # first render -> signature and the view's files verified, fresh pages
            fresh = browser.new_page(viewport={"width": 1280, "height": 900})
            fresh.goto(srv.url + "index.html#/DIP_LOC")
            fresh.wait_for_selector('body[data-firma="ok"]')
            fresh.wait_for_selector("main figure.historial[data-cortes]")
            fresh.wait_for_timeout(200)
            checks.append(fresh.evaluate("window.__prepcastFirma.verificada - window.__prepcastFirma.render"))
            fresh.close()
        out["verify_ms"] = statistics.median(checks)
        out["verify_min_ms"], out["verify_max_ms"] = min(checks), max(checks)
        index = root / published.site.main_fields["secciones"]
        out["index_gzip"] = len(gzip.compress(index.read_bytes(), 6))
        out["index_raw"] = index.stat().st_size
        later: dict[str, int] = {}
        for route in ("/DIP_LOC/distrito/1", "/DIP_LOC/distrito/1/seccion/{sec}", "{casilla}",
                      "/AYUN", f"/AYUN/municipio/{largest}", "/bases", "/difusores"):  # fmt: skip
            if "{sec}" in route:
                route = route.format(sec=page.locator("main tr[data-seccion]").first.get_attribute("data-seccion"))
            if route == "{casilla}":
                link = page.locator("main tr[data-casilla]", has_text="Capturada").first.locator("a")
                route = (link.get_attribute("href") or "#").lstrip("#")
            requests.clear()
            page.evaluate("r => { location.hash = r; }", route)
            page.wait_for_selector(f'main[data-vista="{route.strip("/")}"]')
            later[route] = sum(1 for r in requests if r.startswith("data/"))
        out["later_data_requests"] = later
        # Render time of the largest municipio with its data cached (render only), 7 runs.
        route = f"/AYUN/municipio/{largest}"
        runs = []
        for _ in range(7):
            page.evaluate("r => { location.hash = r; }", "/AYUN")
            page.wait_for_selector('main[data-vista="AYUN"]')
            runs.append(page.evaluate(_RENDER_JS, route))
        out["render_ms"] = statistics.median(runs)
        out["render_max_ms"] = max(runs)
        cold = browser.new_page(viewport={"width": 1280, "height": 900})
        cold.goto(srv.url + "index.html#/AYUN")
        cold.wait_for_selector('main[data-vista="AYUN"]')
        out["render_cold_ms"] = cold.evaluate(_RENDER_JS, route)
        browser.close()
    return out


# Resources of the page started before and after the first view was painted (the mark the
# page sets when it starts checking the signature).
_SPLIT_JS = """() => {
  const t = window.__prepcastFirma.render;
  const rs = performance.getEntriesByType('resource');
  return {before: rs.filter(e => e.startTime < t).map(e => e.name),
          after: rs.filter(e => e.startTime >= t).map(e => e.name)};
}"""


# Time from the hash change to the view in the DOM and laid out.
_RENDER_JS = """async (route) => {
  const main = document.getElementById('contenido');
  const vista = route.replace(/^\\/+|\\/+$/g, '');
  const t0 = performance.now();
  await new Promise((resolve) => {
    const obs = new MutationObserver(() => {
      if (main.getAttribute('data-vista') === vista) { obs.disconnect(); resolve(); }
    });
    obs.observe(main, {attributes: true, attributeFilter: ['data-vista']});
    location.hash = route;
  });
  void document.body.offsetHeight;
  return performance.now() - t0;
}"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="edomex-2024")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--dir", type=Path, help="election directory to reuse (generated if empty)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-site-") as tmp:
        edir = args.dir or Path(tmp) / "election"
        if not (edir / "election.toml").exists():
            generate(args.profile, args.seed, edir)
        ed = load_election_dir(edir)
        n = pick_cut(ed)
        d = delta_figures(ed, n)
        print(f"profile {args.profile} seed {args.seed}: cut {n} -> {d['cut']}")
        counts = {e: sum(1 for a in f if ed.proceso.cut_times()[n - 1] < a.registro <= ed.proceso.cut_times()[n])
                  for e, f in ed.feeds.items()}  # fmt: skip
        print(f"  new acta records in cut {d['cut']}: {counts}")
        bt = build_times(ed, n)
        print(f"  site data of cut {d['cut']}: {bt['fresh']:.2f} s CPU from scratch (site_files), "
              f"{bt['writer']:.2f} s CPU with a SiteWriter that wrote cut {n}")
        print(f"  package (site + data + db zips): {d['files']} files, {d['full']:,} bytes")
        print(f"  delta from cut {n}: {d['changed']} files, {d['delta']:,} bytes = "
              f"{100 * d['delta'] / d['full']:.1f} % of the package (goal <= 25 %)")
        for kind, size in sorted(d["by_kind"].items()):
            print(f"    {kind}: {size:,} bytes")
        b = browser_figures(ed, d["cut"], Path(tmp) / "pkg")
        print(f"  first view of the entidad page: {b['first_requests']} requests (goal <= 6), "
              f"{b['first_gzip'] / 1024:.1f} KB gzip / {b['first_raw'] / 1024:.1f} KB raw (goal <= 150 KB)")
        print(f"  after the first render: {len(b['after_requests'])} more requests "
              f"({', '.join(p.split('/')[0] + '/' + p.rsplit('/', 1)[-1].split('.')[0] for p in b['after_requests'])}); "
              f"{b['after_gzip'] / 1024:.1f} KB gzip in all")
        print(f"  signature and the view's files verified {b['verify_ms']:.0f} ms after the first render "
              f"(median of 7; {b['verify_min_ms']:.0f}-{b['verify_max_ms']:.0f} ms) (goal <= 100 ms)")
        print(f"  Mi sección index (fetched on use): {b['index_gzip'] / 1024:.1f} KB gzip / "
              f"{b['index_raw'] / 1024:.1f} KB raw")
        worst = max(b["later_data_requests"].values())
        print(f"  later views: at most {worst} data requests (goal <= 2): {b['later_data_requests']}")
        print(f"  render largest municipio ({b['largest_municipio']}, {b['casillas']} casillas): "
              f"{b['render_ms']:.0f} ms median, {b['render_max_ms']:.0f} ms max of 7 with data cached; "
              f"{b['render_cold_ms']:.0f} ms fetching its 2 files from loopback (goal < 200 ms)")
        print(f"  load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
