"""The README's Python throughput row: `fhir_preflight.validate_file` against the CLI's
`validate --format json` on the same file, one run, alternately, best of N each (all cores).

    target/py-venv/bin/python crates/fhir-preflight-py/tests/bench_python.py FILE [ROUNDS]
"""

import subprocess
import sys
import time
from pathlib import Path

import fhir_preflight

ROOT = Path(__file__).resolve().parents[3]
BIN = ROOT / "target" / "release" / "fhir-preflight"


def main():
    path = Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    size = path.stat().st_size
    best = {"cli": float("inf"), "python": float("inf")}
    for _ in range(rounds):
        t = time.perf_counter()
        done = subprocess.run([str(BIN), "validate", "--format", "json", str(path)], capture_output=True)
        best["cli"] = min(best["cli"], time.perf_counter() - t)
        t = time.perf_counter()
        report = fhir_preflight.validate_file(path)
        best["python"] = min(best["python"], time.perf_counter() - t)
        assert report.to_manifest_json() == done.stdout.decode()
    mb = size / 1e6
    print(f"{path.name}: {size} bytes, best of {rounds} each, alternately, all cores")
    print(f"| CLI | {mb / best['cli']:.0f} MB/s |\n| Python package | {mb / best['python']:.0f} MB/s |")
    print(f"Python / CLI: {best['cli'] / best['python']:.2f}")


if __name__ == "__main__":
    main()
