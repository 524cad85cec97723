"""Validate many NDJSON files with fhir-preflight on Spark, into one HealthLake-shaped result.

    spark-submit examples/spark/validate.py --output OUT [--level strict] INPUT...

INPUT: files (`.ndjson`, `.ndjson.gz`) or folders (their `.ndjson` and `.ndjson.gz` files, sorted, as
the CLI reads a folder), on a file system every executor sees (local in `local[N]` mode; a shared
mount, or files fetched first, on a cluster). One task per file, largest first, each validated by the
`fhir_preflight` package (installed on every executor: `--py-files` cannot carry a compiled wheel; use
`spark.archives`/`--archives` with a packed environment, EMR bootstrap actions, Glue's
`--additional-python-modules`, or a Databricks cluster library) into its own part folder; the driver
then moves the parts' records into OUT/SUCCESS and OUT/FAILURE and writes OUT/manifest.json last —
exactly what one `fhir-preflight validate INPUT... --output-dir OUT` writes.
"""

import argparse
import os
import shutil
import sys
from pathlib import Path


def list_inputs(args):
    files = []
    for arg in args:
        p = Path(arg)
        if p.is_dir():
            files += sorted(str(p / n) for n in os.listdir(p) if n.endswith((".ndjson", ".ndjson.gz")) and (p / n).is_file())
        else:
            files.append(arg)
    return files


def input_uri(args):
    """The manifest's inputDataConfig.s3Uri, as the CLI names its inputs (a folder ends with `/`)."""
    if len(args) == 1:
        return args[0] + "/" if Path(args[0]).is_dir() and not args[0].endswith("/") else args[0]
    return None  # several: the package's merge names their common parent, as the CLI does


def validate_one(task):
    """Executor side: one file into its own part folder; returns (index, manifest text)."""
    import fhir_preflight

    index, path, parts, level = task
    out = os.path.join(parts, f"part-{index:05}")
    if os.path.exists(out):
        shutil.rmtree(out)  # a retried task starts again
    report = fhir_preflight.validate_file(path, level=level, output_dir=out, threads=1)
    return index, report.to_manifest_json()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="output folder (absent or empty)")
    parser.add_argument("--level", default="strict", choices=["strict", "structure-only", "minimal"])
    parser.add_argument("inputs", nargs="+")
    a = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    import fhir_preflight

    out = Path(a.output)
    if out.exists() and any(out.iterdir()):
        sys.exit(f"output folder {out} is not empty")
    files = list_inputs(a.inputs)
    if not files:
        sys.exit("no input to validate")
    parts = out / "_parts"
    parts.mkdir(parents=True, exist_ok=True)
    spark = SparkSession.builder.appName("fhir-preflight").getOrCreate()
    try:
        # Largest first, so that the long tasks start early; one partition per file.
        order = sorted(range(len(files)), key=lambda i: -os.path.getsize(files[i]))
        tasks = [(i, files[i], str(parts), a.level) for i in order]
        results = spark.sparkContext.parallelize(tasks, len(tasks)).map(validate_one).collect()
    finally:
        spark.stop()
    manifests = [text for _, text in sorted(results)]
    # Every part's records into place (record names are unique: the CLI refuses two inputs of one name).
    for i in range(len(files)):
        part = parts / f"part-{i:05}"
        for folder in ("SUCCESS", "FAILURE"):
            if (part / folder).is_dir():
                (out / folder).mkdir(exist_ok=True)
                for record in sorted((part / folder).iterdir()):
                    if (out / folder / record.name).exists():
                        sys.exit(f"two inputs would write the record file {record.name}")
                    record.rename(out / folder / record.name)
    manifest = fhir_preflight.merge_manifests(manifests, input_uri=input_uri(a.inputs), output_dir=a.output)
    shutil.rmtree(parts)
    staged = out / ".manifest.json.partial"
    staged.write_text(manifest)
    staged.rename(out / "manifest.json")  # last: a manifest always describes complete records
    print(manifest, end="")


if __name__ == "__main__":
    main()
