"""The zero-install edition in a real browser: build the JupyterLite site, serve it on loopback, run
every notebook in Pyodide in headless Chromium, and check that nothing left the loopback origin.

For every notebook: open it, Run All, wait for every code cell, then the desktop test's checks (no
error output except cells tagged ``raises-exception``, widgets rendered, the first slider live).
JupyterLite's kernel stops a Run All at any error, even in a ``raises-exception`` cell (the desktop
kernel honours ``stop_on_error``), so the test continues with "run all below" after such a cell,
as a learner would. Chromium gets a dead proxy and a resolver that knows only 127.0.0.1, and every
request the page or its workers make is routed: anything not on the site's origin is aborted and
recorded, and the test fails if there was any. Skips — with the reason — when Chromium or
Playwright is missing; the site's build needs the npm registry and PyPI (cached in build/lite-cache).

Desktop-only notebooks (``"kafkalab": {"desktop_only": "<why>"}`` in their metadata, read by
``lite/build.py``) are neither in the site nor run here; a test without a browser checks that every
notebook needing sockets, processes or native Kafka clients carries that mark.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import threading
import time
from pathlib import Path

import pytest

from test_notebooks_in_browser import CHROMIUM_FLAGS, STATE_JS, assert_ran_cleanly_with_live_widgets, chromium_path, free_port, wait_for_run_all

ROOT = Path(__file__).resolve().parents[2]
OFFLINE_FLAGS = ["--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]
pytestmark = pytest.mark.browser


def _lite_build():
    spec = importlib.util.spec_from_file_location("kafkalab_lite_build", ROOT / "lite" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NOTEBOOKS = _lite_build().lite_notebooks()  # the site's notebooks: desktop-only ones are left out
DESKTOP_ONLY = [p for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if p not in NOTEBOOKS]
# What Pyodide cannot do: open sockets or start threads and processes, load native Kafka clients.
NEEDS_A_REAL_MACHINE = ("kafkalab.wire", "kafkalab.storage", "confluent_kafka", "kafka", "aiokafka", "subprocess", "threading", "socket")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


# The harness must be able to fail: notebooks that only the test's copy of the site holds.
HARNESS_CASES = {
    "a-cell-raises": (["import ipywidgets as w\nw.IntSlider()", "1/0"], "ZeroDivisionError"),
    "phones-home": (["from js import fetch\ntry:\n    await fetch('https://example.com/')\nexcept Exception as refused:\n    print('refused')"],
                    "requests left the site's origin"),
}


def _write_harness_notebooks(folder: Path) -> None:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    for case, (sources, _) in HARNESS_CASES.items():
        notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
        notebook.metadata["kernelspec"] = {"name": "python", "display_name": "Python (Pyodide)", "language": "python"}
        nbformat.write(notebook, folder / f"{case}.ipynb")


@pytest.fixture(scope="module")
def lite_site(tmp_path_factory: pytest.TempPathFactory):
    if chromium_path() is None:
        pytest.skip("no Chromium on this machine (python3 run.py test installs Debian's chromium when run as root)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    pytest.importorskip("jupyterlite_core", reason="jupyterlite-core is not installed (the test extra has it)")
    output = tmp_path_factory.mktemp("lite") / "site"
    harness = tmp_path_factory.mktemp("harness")
    _write_harness_notebooks(harness)
    _lite_build().build(output, ROOT / "build" / "lite-cache", extra_files={"harness": harness})
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_Quiet, directory=str(output)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()


@pytest.fixture(scope="module")
def offline_browser(lite_site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS + OFFLINE_FLAGS)
        yield chromium
        chromium.close()


def run_all_continuing_past_demonstrated_errors(page, timeout_s: float = 900) -> dict:
    """Run All; after a ``raises-exception`` cell stops it, run all below the next cell; the final state."""
    deadline = time.monotonic() + timeout_s
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    while True:
        try:
            return wait_for_run_all(page, timeout_s=20)
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        state = page.evaluate(STATE_JS)
        if state is None or state["running"] or state["kernel"] != "idle":
            continue
        code = [i for i, cell in enumerate(state["cells"]) if cell["cell_type"] == "code"]
        waiting = [i for i in code if not state["cells"][i].get("execution_count")]
        if not waiting:
            continue
        before = [i for i in code if i < waiting[0]]
        stopped_at = state["cells"][before[-1]] if before else None
        if stopped_at is None or "raises-exception" not in stopped_at.get("metadata", {}).get("tags", []):
            return state  # stopped by a real error: the caller's checks report it
        page.evaluate(f"""() => {{
            const notebook = window.jupyterapp.shell.currentWidget.content;
            notebook.activeCellIndex = {waiting[0]};
            return window.jupyterapp.commands.execute('notebook:run-all-below');
        }}""")


def _needs_a_real_machine(notebook: Path) -> list[str]:
    """What in ``notebook``'s code cells cannot run in Pyodide: shell escapes and imports of NEEDS_A_REAL_MACHINE."""
    import ast

    found = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        lines = source.splitlines()
        found += [f"shell escape: {line.strip()[:40]}" for line in lines if line.lstrip().startswith("!")]
        tree = ast.parse("\n".join(line for line in lines if not line.lstrip().startswith(("!", "%"))))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found += [f"import {name}" for name in names
                      if any(name == blocked or name.startswith(blocked + ".") for blocked in NEEDS_A_REAL_MACHINE)]
    return found


def test_notebooks_that_need_a_real_machine_are_desktop_only_and_left_out() -> None:
    """No browser needed: the mark is where it must be, has a reason, and the site's list honours it."""
    build = _lite_build()
    assert "09-run-it-for-real.ipynb" in [p.name for p in DESKTOP_ONLY]
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        needs = _needs_a_real_machine(notebook)
        if notebook in DESKTOP_ONLY:
            assert len(build.desktop_only(notebook) or "") > 20, f"{notebook.name}: say why it is desktop only"
            assert needs, f"{notebook.name} is marked desktop only but uses nothing Pyodide lacks: ship it"
        else:
            assert not needs, (f"{notebook.name} cannot run in the browser edition ({needs[:3]}): mark it "
                               '"kafkalab": {"desktop_only": "<why>"} in its metadata')


def test_the_site_leaves_out_desktop_only_notebooks(lite_site) -> None:
    import urllib.error
    import urllib.request

    listing = json.loads(urllib.request.urlopen(f"{lite_site}/api/contents/notebooks/all.json", timeout=30).read())
    shipped = sorted(item["name"] for item in listing["content"] if item["name"].endswith(".ipynb"))
    assert shipped == [p.name for p in NOTEBOOKS]
    for notebook in DESKTOP_ONLY:
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{lite_site}/files/notebooks/{notebook.name}", timeout=30)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_in_pyodide_without_leaving_the_origin(lite_site, offline_browser, notebook: Path, tmp_path: Path) -> None:
    run_in_lite(lite_site, offline_browser, f"notebooks/{notebook.name}", tmp_path)


@pytest.mark.parametrize("case", sorted(HARNESS_CASES))
def test_the_harness_fails_a_broken_or_leaking_notebook(lite_site, offline_browser, case: str, tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match=HARNESS_CASES[case][1]):
        run_in_lite(lite_site, offline_browser, f"harness/{case}.ipynb", tmp_path)


def run_in_lite(lite_site: str, offline_browser, path: str, tmp_path: Path) -> None:
    """Open ``path`` in the site, run it all, and assert the checks (see the module's note)."""
    context = offline_browser.new_context(viewport={"width": 1400, "height": 1000})
    outside: list[str] = []

    def route(request_route) -> None:
        url = request_route.request.url
        if url.startswith(lite_site + "/") or url.startswith(("data:", "blob:")):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    context.route("**/*", route)
    page = context.new_page()
    try:
        page.goto(f"{lite_site}/lab/index.html?path={path}", timeout=60_000)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget && window.jupyterapp.shell.currentWidget.sessionContext"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                               " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel", timeout=120_000)
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'", timeout=180_000)
        state = run_all_continuing_past_demonstrated_errors(page)
        unexecuted = [i for i, c in enumerate(state["cells"]) if c["cell_type"] == "code" and not c.get("execution_count")]
        assert_ran_cleanly_with_live_widgets(page, state)
        assert not unexecuted, f"cells {unexecuted[:5]} never ran"
        assert not outside, f"requests left the site's origin: {outside[:5]}"
        if any("check_my_work(" in "".join(c["source"]) for c in state["cells"] if c["cell_type"] == "code"):
            # the learner's exercise files were graded inside the page (untouched stubs: 0 points, said so)
            shown = json.dumps([c.get("outputs", []) for c in state["cells"] if c["cell_type"] == "code"])
            assert "public total: 0/10" in shown or "0/10 points" in shown, "a check-my-work cell showed no report"
    except BaseException:
        shot = tmp_path / f"lite-{Path(path).stem}.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        raise
    finally:
        context.close()
