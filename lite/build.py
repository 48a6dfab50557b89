"""Build the zero-install edition: a static JupyterLite site running the simulator chapters in Pyodide.

    python3 run.py lite                 # builds build/lite/ (this script, in the project's .venv)
    python3 -m http.server -d build/lite 8000   # then open http://127.0.0.1:8000/lab/index.html

Everything comes from package registries, never from a CDN: Pyodide's core from the npm package
``pyodide`` (placed in ``static/pyodide/``, where the Pyodide kernel addon looks), the kernel's start-up
packages as pure-Python wheels from PyPI at the versions Pyodide's lock file names (the lock is
rewritten to point at them), kafkalab as a wheel built from the working tree, ipywidgets (the same
version as the build environment's widget manager), comm, and cramjam's Pyodide wheel from PyPI.
They are preloaded (``loadPyodideOptions.packages``) and PyPI fallback is disabled, so the built site
asks nothing of any origin but its own. Downloads are cached in ``build/lite-cache/``.

Notebooks that need a real machine — sockets, threads, subprocesses, native Kafka clients — say so in
their metadata, ``"kafkalab": {"desktop_only": "<why>"}``, and are left out of the site
(:func:`lite_notebooks`; the browser test runs the same list).

Pins: jupyterlite-core and jupyterlite-pyodide-kernel 0.8.6 use Pyodide 314.0.6 (Python 3.14,
wasm ABI ``pyemscripten_2026_0``). Facts behind these choices: docs/architecture.md, "The browser
edition".
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYODIDE_VERSION = "314.0.6"
PYODIDE_NPM = f"https://registry.npmjs.org/pyodide/-/pyodide-{PYODIDE_VERSION}.tgz"
WASM_PLATFORM = "pyemscripten_2026_0_wasm32"
PYTHON_VERSION = "3.14"
KERNEL_PACKAGES = ("micropip", "jedi", "ipython")  # what the kernel loads at start, from Pyodide's lock
EXTRA_PURE = ("comm==0.2.3",)
CRAMJAM = "cramjam==2.14.0"  # the one accelerator with a Pyodide wheel on PyPI (SNAPPY, LZ4, ZSTD)
PRELOADED = ("micropip", "comm", "jedi", "ipython", "ipywidgets", "cramjam", "kafkalab")
CONTENTS = ("notebooks", "exercises")


def say(message: str) -> None:
    print(f"[kafkalab lite] {message}", flush=True)


def desktop_only(notebook: Path) -> str | None:
    """Why ``notebook`` cannot run in Pyodide (its metadata's ``kafkalab.desktop_only``), or None if it can."""
    metadata = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {})
    reason = metadata.get("kafkalab", {}).get("desktop_only")
    return str(reason) if reason else None


def lite_notebooks(folder: Path = ROOT / "notebooks") -> list[Path]:
    """The notebooks the browser edition ships: all of ``folder``'s but the desktop-only ones."""
    return [notebook for notebook in sorted(folder.glob("*.ipynb")) if not desktop_only(notebook)]


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_pyodide(cache: Path) -> Path:
    """The npm package's files (pyodide.mjs, the wasm, the stdlib, the lock file), unpacked once."""
    unpacked = cache / f"pyodide-{PYODIDE_VERSION}"
    if (unpacked / "pyodide-lock.json").exists():
        return unpacked
    archive = cache / f"pyodide-{PYODIDE_VERSION}.tgz"
    if not archive.exists():
        say(f"downloading Pyodide {PYODIDE_VERSION} from the npm registry")
        with urllib.request.urlopen(PYODIDE_NPM, timeout=120) as response, open(archive, "wb") as out:
            shutil.copyfileobj(response, out)
    staging = cache / "pyodide-staging"
    shutil.rmtree(staging, ignore_errors=True)
    with tarfile.open(archive) as tar:
        tar.extractall(staging, filter="data")
    (staging / "package").rename(unpacked)
    shutil.rmtree(staging)
    return unpacked


def lock_closure(lock: dict, names: tuple[str, ...]) -> list[str]:
    """The lock's entries for ``names`` and everything they depend on."""
    by_name = {normalize(name): name for name in lock["packages"]}
    wanted, seen = list(names), []
    while wanted:
        name = by_name[normalize(wanted.pop())]
        if name not in seen:
            seen.append(name)
            wanted.extend(lock["packages"][name]["depends"])
    return sorted(seen)


def pip_download(requirements: list[str], into: Path, wasm: bool = False) -> None:
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--python-version", PYTHON_VERSION, "--dest", str(into), *requirements]
    if wasm:
        command[6:6] = ["--platform", WASM_PLATFORM, "--implementation", "cp", "--abi", "cp314"]
    subprocess.run(command, check=True)


def wheel_for(folder: Path, name: str) -> Path:
    found = [p for p in folder.glob("*.whl") if normalize(p.name.split("-")[0]) == normalize(name)]
    if len(found) != 1:
        raise SystemExit(f"expected one wheel for {name} in {folder}, found {[p.name for p in found]}")
    return found[0]


def installed_version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


def lock_entry(wheel: Path, name: str, version: str, imports: list[str], depends: list[str]) -> dict:
    return {
        "name": name, "version": version, "file_name": wheel.name, "install_dir": "site", "package_type": "package",
        "sha256": sha256(wheel), "imports": imports, "depends": depends, "unvendored_tests": False,
    }


def build(output: Path, cache: Path, extra_files: dict[str, Path] | None = None) -> dict:
    """Build the site into ``output``; ``extra_files`` adds folders beside notebooks/ (the tests' own notebooks)."""
    started = time.monotonic()
    cache.mkdir(parents=True, exist_ok=True)
    pyodide = fetch_pyodide(cache)
    lock = json.loads((pyodide / "pyodide-lock.json").read_text(encoding="utf-8"))

    wheels = cache / "wheels"
    wheels.mkdir(exist_ok=True)
    kernel = lock_closure(lock, KERNEL_PACKAGES)
    widgets_version = installed_version("ipywidgets")  # the browser's ipywidgets = the widget manager built into the site
    pure = [f"{name}=={lock['packages'][name]['version']}" for name in kernel] + [f"ipywidgets=={widgets_version}", *EXTRA_PURE]
    missing = [r for r in pure if not any(normalize(p.name.split("-")[0]) == normalize(r.split("==")[0]) and
                                           p.name.split("-")[1] == r.split("==")[1] for p in wheels.glob("*.whl"))]
    if missing:
        say(f"downloading {len(missing)} pure-Python wheel(s) from PyPI")
        pip_download(missing, wheels)
    if not list(wheels.glob("cramjam-*.whl")):
        say("downloading cramjam's Pyodide wheel from PyPI")
        pip_download([CRAMJAM], wheels, wasm=True)

    site_src = output.parent / "lite-src"
    shutil.rmtree(site_src, ignore_errors=True)
    static = site_src / "static" / "pyodide"
    shutil.copytree(pyodide, static)
    for old in static.glob("*.whl"):
        old.unlink()
    packages = lock["packages"]
    for name in kernel:  # same versions as the lock, from PyPI: point the lock at our copies
        wheel = wheel_for(wheels, name)
        shutil.copy(wheel, static / wheel.name)
        packages[name].update(file_name=wheel.name, sha256=sha256(wheel), unvendored_tests=False)
    say("building the kafkalab wheel from the working tree")
    built = cache / "kafkalab-wheel"
    shutil.rmtree(built, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(ROOT), "-w", str(built)],
                   check=True)
    extra = {
        "comm": (wheel_for(wheels, "comm"), ["comm"], ["traitlets"]),
        "ipywidgets": (wheel_for(wheels, "ipywidgets"), ["ipywidgets"], ["comm", "ipython", "traitlets"]),
        "cramjam": (wheel_for(wheels, "cramjam"), ["cramjam"], []),
        # mmh3 and crc32c have no Pyodide wheel on PyPI: kafkalab falls back to its pure-Python versions.
        "kafkalab": (wheel_for(built, "kafkalab"), ["kafkalab"], ["cramjam"]),
    }
    for name, (wheel, imports, depends) in extra.items():
        shutil.copy(wheel, static / wheel.name)
        packages[name] = lock_entry(static / wheel.name, name, wheel.name.split("-")[1], imports, depends)
    (static / "pyodide-lock.json").write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    settings = {
        "jupyter-config-data": {
            "appName": "kafkalab",
            "exposeAppInBrowser": True,  # lets the browser test drive the app, as on the desktop
            "litePluginSettings": {
                "@jupyterlite/pyodide-kernel-extension:kernel": {
                    "pyodideUrl": "./static/pyodide/pyodide.js",
                    "loadPyodideOptions": {"packages": list(PRELOADED)},
                    "disablePyPIFallback": True,
                }
            },
        }
    }
    (site_src / "jupyter-lite.json").write_text(json.dumps(settings, indent=1) + "\n", encoding="utf-8")
    shipped = set(lite_notebooks())
    left_out = {p.name: desktop_only(p) for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if p not in shipped}
    for name, reason in left_out.items():
        say(f"leaving out notebooks/{name} (desktop only: {reason})")
    junk = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = set(junk(directory, names))
        if Path(directory).resolve() == (ROOT / "notebooks").resolve():
            skipped |= set(names) & set(left_out)
        return skipped

    for folder in CONTENTS:  # the repository's layout, so a notebook finds ../exercises as on the desktop
        shutil.copytree(ROOT / folder, site_src / "files" / folder, ignore=ignore)
    for name, folder in (extra_files or {}).items():
        shutil.copytree(folder, site_src / "files" / name)

    say("running jupyter lite build")
    shutil.rmtree(output, ignore_errors=True)
    command = [sys.executable, "-m", "jupyter", "lite", "build", "--lite-dir", str(site_src), "--output-dir", str(output),
               "--no-sourcemaps"]
    subprocess.run(command, check=True, cwd=site_src)
    size = sum(p.stat().st_size for p in output.rglob("*") if p.is_file())
    report = {"output": str(output), "bytes": size, "seconds": round(time.monotonic() - started, 1), "left_out": left_out}
    say(f"built {output} ({size / 2**20:.1f} MiB) in {report['seconds']} s; serve it with: "
        f"python3 -m http.server -d {output.relative_to(ROOT) if output.is_relative_to(ROOT) else output} 8000")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="build the JupyterLite edition of kafkalab")
    parser.add_argument("--output", default=str(ROOT / "build" / "lite"), help="where the site goes (default build/lite)")
    parser.add_argument("--cache", default=str(ROOT / "build" / "lite-cache"), help="downloads kept between builds")
    args = parser.parse_args(argv)
    build(Path(args.output).resolve(), Path(args.cache).resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
