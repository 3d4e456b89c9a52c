"""How long the CLI takes before it does anything: ``leadq --help``, a command's own help, and
the bare interpreter for comparison (median of several runs, each a fresh process).

    python bench/startup.py [--runs 7]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

CASES = {
    "python -c pass (the interpreter alone)": [sys.executable, "-c", "pass"],
    "python -c 'import leadq.cli'": [sys.executable, "-c", "import leadq.cli"],
    "leadq --help": [sys.executable, "-m", "leadq", "--help"],
    "leadq audit --help (SQLAlchemy)": [sys.executable, "-m", "leadq", "audit", "--help"],
    "leadq score --help (polars)": [sys.executable, "-m", "leadq", "score", "--help"],
    "leadq train --help": [sys.executable, "-m", "leadq", "train", "--help"],
}


def seconds(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    for name, command in CASES.items():
        print(f"{name:42s} {seconds(command, args.runs) * 1000:6.0f} ms (median of {args.runs})")


if __name__ == "__main__":
    main()
