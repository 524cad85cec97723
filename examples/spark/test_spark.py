"""The Spark job on a real local Spark (pyspark, local[2]; Java from the system) over the fixtures
split into many files: its result equals one CLI run, byte for byte.

    FHIR_PREFLIGHT_BIN=target/release/fhir-preflight target/py-venv/bin/pytest examples/spark
"""

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("FHIR_PREFLIGHT_BIN", ROOT / "target" / "release" / "fhir-preflight"))


def tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def spark_equals_cli(tmp_path, inputs, *options):
    """The job on `inputs`, and one CLI run: the same outputs, byte for byte; returns the manifest and
    the job's own account of its tasks."""
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    job = subprocess.run(
        [sys.executable, ROOT / "examples" / "spark" / "validate.py", "--output", tmp_path / "spark", *options, inputs],
        env=dict(env, PYSPARK_SUBMIT_ARGS="--master local[2] pyspark-shell"),
        capture_output=True,
        timeout=600,
    )
    assert job.returncode == 0, job.stderr.decode()[-3000:]
    cli = subprocess.run([str(BIN), "validate", inputs, "-o", tmp_path / "cli", "--format", "json"], capture_output=True)
    assert cli.returncode in (0, 1), cli.stderr
    spark, theirs = tree(tmp_path / "spark"), tree(tmp_path / "cli")
    manifest = spark.pop("manifest.json").decode().replace(str(tmp_path / "spark"), str(tmp_path / "cli"))
    assert manifest == theirs.pop("manifest.json").decode()
    assert spark == theirs
    tasks = [l for l in job.stderr.decode().splitlines() if " tasks (" in l]
    return json.loads(manifest), tasks[-1]


def test_the_spark_job_equals_one_cli_run(tmp_path):
    manifest, tasks = spark_equals_cli(tmp_path, ROOT / "fixtures" / "synthea-us-core")
    assert manifest["numberOfScannedFiles"] == 21
    assert tasks.startswith("21 files in 21 tasks (0 more")


def test_large_files_cut_into_byte_ranges_equal_one_cli_run(tmp_path):
    # Plain files with failed lines, blank lines, CRLF, a byte-order mark, lines longer than a
    # range, no final newline, and a gzipped one (never cut), in ranges of 3000 bytes.
    inputs = tmp_path / "in"
    inputs.mkdir()
    for folder in ("invalid", "edge", "rules", "adversarial", "synthea-us-core"):
        for f in sorted((ROOT / "fixtures" / folder).glob("*.ndjson")):
            if folder != "synthea-us-core" or f.stat().st_size < 100_000:
                (inputs / f"{folder}-{f.name}").write_bytes(f.read_bytes())
    (inputs / "zipped.ndjson.gz").write_bytes(gzip.compress((ROOT / "fixtures" / "invalid" / "lines.ndjson").read_bytes()))
    manifest, tasks = spark_equals_cli(tmp_path, inputs, "--range-bytes", "3000")
    assert manifest["numberOfResourcesWithCustomerError"] > 50
    files = len(list(inputs.iterdir()))
    assert manifest["numberOfScannedFiles"] == files
    more = int(tasks.split("(")[1].split()[0])
    assert more > 100, tasks
