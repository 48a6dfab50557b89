"""The zero-install edition: build time, site size, and time from opening the first notebook to its
widgets being live (Run All in Pyodide, headless Chromium, nothing reachable but loopback).

    .venv/bin/python benchmarks/bench_lite.py

Downloads (Pyodide from npm, wheels from PyPI) are cached in build/lite-cache; the first run also
reports the cold build.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import sys
import tempfile
import threading
import time
from pathlib import Path

from machine import print_header

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
FIRST = "00-how-to-use-this-course.ipynb"


def main() -> None:
    from test_lite_edition import OFFLINE_FLAGS, _Quiet
    from test_notebooks_in_browser import CHROMIUM_FLAGS, chromium_path, free_port, wait_for_run_all

    print_header("browser edition (JupyterLite + Pyodide)")
    spec = importlib.util.spec_from_file_location("kafkalab_lite_build", ROOT / "lite" / "build.py")
    build = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(build)  # type: ignore[union-attr]
    site = Path(tempfile.mkdtemp(prefix="kafkalab-lite-bench-")) / "site"
    report = build.build(site, ROOT / "build" / "lite-cache")
    files = [p for p in site.rglob("*") if p.is_file()]
    print(f"build: {report['seconds']} s (downloads cached); site: {report['bytes'] / 2**20:.1f} MiB in {len(files)} files")
    if chromium_path() is None:
        print("no Chromium: page timings skipped")
        return
    from playwright.sync_api import sync_playwright

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS + OFFLINE_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        opened = time.monotonic()
        page.goto(f"http://127.0.0.1:{port}/lab/index.html?path=notebooks/{FIRST}", timeout=60_000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.sessionContext"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'", timeout=180_000)
        kernel_ready = time.monotonic() - opened
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_selector(".jp-OutputArea .jupyter-widgets", timeout=180_000)
        widgets_live = time.monotonic() - opened
        wait_for_run_all(page)
        all_ran = time.monotonic() - opened
        browser.close()
    server.shutdown()
    print(f"{FIRST}: kernel ready {kernel_ready:.1f} s after opening; first widget live at {widgets_live:.1f} s; all cells ran at {all_ran:.1f} s")


if __name__ == "__main__":
    main()
