"""The machine's figures, printed at the top of every benchmark so numbers are never read bare."""

from __future__ import annotations

import os
import platform
import sys


def machine_summary() -> str:
    """One line: Python, platform, processor and core count."""
    processor = platform.processor() or platform.machine()
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.system()} {platform.machine()}, {model or processor}, {os.cpu_count()} CPUs"
    )


def print_header(title: str) -> None:
    print(f"== {title}")
    print(f"   {machine_summary()}")
    sys.stdout.flush()
