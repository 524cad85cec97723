"""The README's Python throughput table: one run, side by side, on the same file — the package
(`fhir_preflight.validate_file`) against the CLI (`validate --format json`), all cores and one
thread, and against the Python validators people use today, `fhir.resources` and `FHIRkit`, each
in its own virtual environment (they need different pydantic majors), with their verdict agreement.

    target/py-venv/bin/python crates/fhir-preflight-py/tests/bench_python.py [--lines 30000] [--rounds 5] [FILE]

FILE defaults to the deterministic benchmark corpus (`cargo xtask gen-corpus`: Patient, Observation,
Encounter, Condition, DiagnosticReport, MedicationRequest, Claim, ExplanationOfBenefit, transaction
Bundles; a few percent of invalid lines), generated under target/corpus/. The other validators'
environments are made under target/bench-venvs/ on first use (pinned versions from the package
registry). fhir-preflight's rows are the best of ROUNDS each, alternately; the other validators,
tens of times slower, run once. Verdict agreement is per line: both accept it, or both reject it.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BIN = ROOT / "target" / "release" / "fhir-preflight"

# name: (pip requirements, what the README calls it)
OTHERS = {
    "fhir.resources": (["fhir.resources==8.3.0"], "fhir.resources 8.3.0 (its R4B models, pydantic 2), 1 thread"),
    "fhirkit": (["FHIRkit==0.1.2", "pydantic<2"], "FHIRkit 0.1.2 (pydantic 1; models of 30 resource types), 1 thread"),
}


def worker(kind, path):
    """In the other validator's environment: each line parsed and validated as its users do; prints
    the time and the rejected line numbers (with the first few reasons)."""
    if kind == "fhir.resources":
        from fhir.resources.R4B import get_fhir_model_class

        def check(resource):
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)

    else:
        # Its own union parser (fhirkit.parse) fails on every line with the pydantic 1.10 it needs
        # (`ConfigError: Field 'resourceType' of model 'DomainResource' needs to be a Literal`), so
        # each resource goes to its type's model, as a user would work around it.
        from fhirkit.Resource import RESOURCE_MODELS

        models = {m.__fields__["resourceType"].default: m for m in RESOURCE_MODELS if "resourceType" in m.__fields__}

        def check(resource):
            model = models.get(resource["resourceType"])
            if model is None:
                raise ValueError(f"FHIRkit has no model of {resource['resourceType']}")
            model.parse_obj(resource)

    rejected, reasons = [], {}
    start = time.perf_counter()
    with open(path, "rb") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                check(json.loads(line))
            except Exception as e:  # noqa: BLE001 - any failure is that validator's rejection
                rejected.append(number)
                if len(reasons) < 3:
                    reasons[number] = f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
    took = time.perf_counter() - start
    print(json.dumps({"seconds": took, "rejected": rejected, "reasons": reasons}))


def venv_python(kind):
    venv = ROOT / "target" / "bench-venvs" / kind
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *OTHERS[kind][0]], check=True)
    return python


def corpus(lines):
    path = ROOT / "target" / "corpus" / f"python-bench-{lines}.ndjson"
    if not path.exists():
        subprocess.run(
            ["cargo", "xtask", "gen-corpus", "--lines", str(lines), "--out", str(path)], check=True, cwd=ROOT
        )
    return path


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lines", type=int, default=30_000)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("file", nargs="?")
    a = p.parse_args()
    import fhir_preflight

    path = Path(a.file) if a.file else corpus(a.lines)
    size = path.stat().st_size
    best = {}

    def timed(key, run):
        t = time.perf_counter()
        result = run()
        best[key] = min(best.get(key, float("inf")), time.perf_counter() - t)
        return result

    for _ in range(a.rounds):
        for threads in (None, 1):
            j = ["-j", "1"] if threads else []
            cli = timed(("cli", threads), lambda: subprocess.run([str(BIN), "validate", *j, "--format", "json", str(path)], capture_output=True))
            report = timed(("python", threads), lambda: fhir_preflight.validate_file(path, threads=threads))
            assert report.to_manifest_json() == cli.stdout.decode(), "the package's manifest is the CLI's"
    ours = {f.line for f in report.failed_lines()}
    lines = report.resources_scanned
    mb = size / 1e6
    print(f"{path.name}: {size:,} bytes, {lines:,} lines, {len(ours):,} rejected by fhir-preflight; "
          f"fhir-preflight best of {a.rounds} each, alternately")
    print("| validator | MB/s | vs the CLI (same threads) | verdict agreement with fhir-preflight |")
    print("|---|---:|---:|---|")
    for threads, label in ((None, "all cores"), (1, "1 thread")):
        cli, py = best[("cli", threads)], best[("python", threads)]
        print(f"| fhir-preflight CLI, {label} | {mb / cli:.0f} | 1.00 | — |")
        print(f"| **fhir_preflight package, {label}** | **{mb / py:.0f}** | **{cli / py:.2f}** | the same verdicts (manifests equal) |")
    for kind, (_, label) in OTHERS.items():
        done = subprocess.run([str(venv_python(kind)), __file__, "--worker", kind, str(path)], capture_output=True, check=True)
        theirs = json.loads(done.stdout)
        rejected = set(theirs["rejected"])
        agree = lines - len(rejected ^ ours)
        only_them = len(rejected - ours)
        only_us = len(ours - rejected)
        print(f"| {label} | {mb / theirs['seconds']:.1f} | {best[('cli', 1)] / theirs['seconds']:.3f} | "
              f"{agree / lines:.1%} of lines ({only_us:,} we reject pass it; it rejects {only_them:,} we import) |")
        for line, why in theirs["reasons"].items():
            print(f"    {kind} rejects line {line}: {why}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3])
    else:
        main()
