"""`python -m bench [--quick|--full|--smoke] [--render] [suite ...]`: run suites, render docs.

Suites are discovered: every module `bench/<suite>.py` that defines `main()` (read from its
source, not imported, so a broken or slow-to-import suite cannot stop the others from being
found). Each runs in a subprocess of its own (`python -m bench.<suite> --mode …`), one after
the other, so that no two suites compete for the machine. Then every result document in
bench/results/ is rendered into docs/benchmarks.md and its PNG plots. `--render` renders only.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
import time
from pathlib import Path

from bench.common import RESULTS_DIR
from bench.render import IMAGES, MARKDOWN, render

PACKAGE = Path(__file__).resolve().parent
NOT_SUITES = {"__init__", "__main__", "common", "render"}


def discover(package: Path = PACKAGE) -> list[str]:
    """Names of the modules in `package` that define a top-level `main()`."""
    suites = []
    for path in sorted(package.glob("*.py")):
        if path.stem in NOT_SUITES:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        if any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body):
            suites.append(path.stem)
    return suites


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Run benchmark suites and render docs/benchmarks.md"
    )
    modes = parser.add_mutually_exclusive_group()
    for mode, text in (
        ("smoke", "minimal sizes: checks that the suites still run (seconds)"),
        ("quick", "small sizes, about a minute per suite (the default)"),
        ("full", "the sizes the benchmarks issue asks for (minutes to an hour)"),
    ):
        modes.add_argument(f"--{mode}", dest="mode", action="store_const", const=mode, help=text)
    modes.add_argument("--render", action="store_true", help="only render the saved results")
    parser.add_argument("suites", nargs="*", help="suites to run (default: all discovered)")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help=argparse.SUPPRESS)
    parser.add_argument("--markdown", type=Path, default=MARKDOWN, help=argparse.SUPPRESS)
    parser.add_argument("--images", type=Path, default=IMAGES, help=argparse.SUPPRESS)
    parser.set_defaults(mode="quick")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    failed: list[str] = []
    if not options.render:
        available = discover()
        unknown = sorted(set(options.suites) - set(available))
        if unknown:
            print(f"unknown suite(s) {', '.join(unknown)}; have {', '.join(available)}")
            return 2
        for suite in options.suites or available:
            print(f"\n### bench.{suite} --mode {options.mode}", flush=True)
            started = time.perf_counter()
            command = [sys.executable, "-m", f"bench.{suite}", "--mode", options.mode]
            command += ["--out", str(options.results)]
            code = subprocess.run(command, cwd=PACKAGE.parent, check=False).returncode
            took = time.perf_counter() - started
            print(f"### bench.{suite}: exit {code} after {took:.0f} s", flush=True)
            if code:
                failed.append(suite)
    path = render(options.results, options.markdown, options.images)
    print(f"rendered {path}")
    if failed:
        print(f"failed: {', '.join(failed)} (their previous results, if any, were rendered)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
