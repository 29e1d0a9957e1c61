"""Benchmark: how long the tests take, and what the large profiles' tests save.

``quick`` runs ``make test-quick`` and prints its wall time, its CPU time (user + system of every
process it started: pytest's workers and the commands the tests run), the count of tests and the
sum of their durations, with the load average before and after (the machine is shared: CPU time
says more than wall time when it is busy). Goal: under a minute on 2 cores.

``large`` generates a large profile with and without acta images and validates its site data
with the site's own validator (``jsonschema``) and with the compiled one the tests use
(``jsonschema-rs``, ``tests/site/site_schemas.py``), printing the CPU time of each.

    .venv/bin/python benchmarks/bench_tests.py quick
    .venv/bin/python benchmarks/bench_tests.py large [--profile edomex-2024]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _durations(junit: Path) -> tuple[float, float]:
    """The sum of the tests' durations (setup, call and teardown) and the longest, from pytest's
    JUnit XML: the sum over 2 workers, halved, is the least wall time the tests need."""
    times = [float(case.get("time", 0)) for case in ET.parse(junit).iter("testcase")]
    return sum(times), max(times, default=0.0)


def quick() -> int:
    print(f"load average before: {_load()}")
    with tempfile.TemporaryDirectory(prefix="bench-tests-") as tmp:
        junit = Path(tmp) / "quick.xml"
        env = {**os.environ, "PYTEST_ADDOPTS":
               f"{os.environ.get('PYTEST_ADDOPTS', '')} --junitxml={junit}".strip()}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        run = subprocess.run(["make", "-s", "test-quick"], cwd=ROOT, capture_output=True, text=True,
                             env=env)
        wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        total, longest = _durations(junit) if junit.exists() else (0.0, 0.0)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    summary = (run.stdout.strip().splitlines() or ["(no output)"])[-1]
    print(f"make test-quick: {summary}")
    print(f"wall {wall:.1f} s, CPU {user + system:.1f} s (user {user:.1f} + system {system:.1f})")
    print(f"sum of test durations {total:.1f} s (longest test {longest:.1f} s)")
    print(f"load average after: {_load()}")
    return 0 if run.returncode == 0 and re.search(r"\d+ passed", summary) else 1


def large(profile: str) -> int:
    sys.path.insert(0, str(ROOT))  # the tests' helpers, as `tests.<area>.<module>`
    from tests.site.site_package import publish
    from tests.site.site_schemas import site_data_problems

    from prepcast.election import load_election_dir
    from prepcast.election.synthetic import generate
    from prepcast.site import validate

    print(f"load average before: {_load()}")
    with tempfile.TemporaryDirectory(prefix="bench-tests-") as tmp:
        out = Path(tmp)
        for images in (True, False):
            t = time.process_time()
            generate(profile, 3, out / f"images-{images}", images=images)
            print(f"generate {profile}, images={images}: CPU {time.process_time() - t:.2f} s")
        files = publish(load_election_dir(out / "images-False"), 10, out / "pkg").site.files
        data = {p: b for p, b in files.items() if p.endswith(".json")}
        size = sum(len(b) for b in data.values())
        t = time.process_time()
        assert site_data_problems(files) == {}
        compiled = time.process_time() - t
        t = time.process_time()
        assert all(validate(json.loads(b)) == [] for b in data.values())
        full = time.process_time() - t
    print(f"site data of cut 10: {len(data)} files, {size / 1e6:.1f} MB; CPU to validate: "
          f"jsonschema {full:.2f} s, jsonschema-rs {compiled:.2f} s")
    print(f"load average after: {_load()}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    sub.add_parser("quick", help="time make test-quick")
    p = sub.add_parser("large", help="a large profile with and without images, validated twice")
    p.add_argument("--profile", default="edomex-2024")
    args = parser.parse_args()
    return quick() if args.what == "quick" else large(args.profile)


if __name__ == "__main__":
    sys.exit(main())
