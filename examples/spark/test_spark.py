"""The Spark job on a real local Spark (pyspark, local[2]; Java from the system) over the fixtures
split into many files: its result equals one CLI run, byte for byte.

    FHIR_PREFLIGHT_BIN=target/release/fhir-preflight target/py-venv/bin/pytest examples/spark
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("FHIR_PREFLIGHT_BIN", ROOT / "target" / "release" / "fhir-preflight"))


def tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def test_the_spark_job_equals_one_cli_run(tmp_path):
    inputs = ROOT / "fixtures" / "synthea-us-core"
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable, PYSPARK_DRIVER_PYTHON=sys.executable)
    job = subprocess.run(
        [sys.executable, ROOT / "examples" / "spark" / "validate.py", "--output", tmp_path / "spark", inputs],
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
    assert json.loads(manifest)["numberOfScannedFiles"] == 21
