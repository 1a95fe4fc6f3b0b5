"""Issue 8's abuse benchmark in one command: the worker's memory under the worst accepted job,
then the web's latency under trickling uploads and while a job runs.

    .venv/bin/python bench/abuse.py [--web-requests 100]

Runs ``bench/abuse_memory.py`` (worker peak RSS for the worst options and frame sizes the
resource limits accept, beside a default-options baseline) and ``bench/abuse_web.py``
(``GET /`` p50/p95 idle, while 16 uploads trickle a byte a second, and while a job runs, as
ratios to idle), one after the other so neither loads the machine for the other. Prints their
numbers; asserts nothing.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--web-requests", type=int, default=100, help="GETs per phase of the web part")
    args = parser.parse_args()
    status = 0
    for script, extra in (("abuse_memory.py", []), ("abuse_web.py", ["--requests", str(args.web_requests)])):
        print(f"== {script}", flush=True)
        status |= subprocess.run([sys.executable, str(BENCH / script), *extra]).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
