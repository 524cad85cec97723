"""Validate many NDJSON files with fhir-preflight on Spark, into one HealthLake-shaped result.

    spark-submit examples/spark/validate.py --output OUT [--level strict] [--range-bytes N] INPUT...

INPUT: files (`.ndjson`, `.ndjson.gz`) or folders (their `.ndjson` and `.ndjson.gz` files, sorted, as
the CLI reads a folder), on a file system every executor sees (local in `local[N]` mode; a shared
mount, or files fetched first, on a cluster). One task per file, largest first — and an uncompressed
file larger than `--range-bytes` (default 256 MiB) is cut into byte ranges of about that size, one
task each: a first, cheap stage finds where each range's lines start and how many newlines it holds
(`fhir_preflight.scan_range`), so every range is validated with the whole file's line numbers
(`validate_file(byte_range=..., first_line=...)`). A gzipped file cannot be read from the middle and
is always one task. Each task is validated by the `fhir_preflight` package (installed on every
executor: `--py-files` cannot carry a compiled wheel; use `spark.archives`/`--archives` with a packed
environment, EMR bootstrap actions, Glue's `--additional-python-modules`, or a Databricks cluster
library) into its own part folder; the driver then moves the parts' records into OUT/SUCCESS and
OUT/FAILURE (a cut file's ranges concatenated in order) and writes OUT/manifest.json last — exactly
what one `fhir-preflight validate INPUT... --output-dir OUT` writes.
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


def ranges_of(path, range_bytes):
    """The nominal byte ranges a file is cut into (one, the whole file, unless it is large and plain)."""
    size = os.path.getsize(path)
    if path.endswith(".gz") or size <= range_bytes:
        return [None]
    return [(start, min(start + range_bytes, size)) for start in range(0, size, range_bytes)]


def scan_one(task):
    """Executor side: where a nominal range's lines start and end, and its newlines."""
    import fhir_preflight

    key, path, (start, end) = task
    return key, fhir_preflight.scan_range(path, start, end)


def validate_one(task):
    """Executor side: one file, or one range of a file, into its own part folder; returns (key,
    manifest text)."""
    import fhir_preflight

    key, path, cut, parts, level = task
    out = os.path.join(parts, "part-{:05}-{:05}".format(*key))
    if os.path.exists(out):
        shutil.rmtree(out)  # a retried task starts again
    if cut is None:
        report = fhir_preflight.validate_file(path, level=level, output_dir=out, threads=1)
    else:
        first, stop, first_line = cut
        report = fhir_preflight.validate_file(
            path, level=level, output_dir=out, threads=1, byte_range=(first, stop), first_line=first_line
        )
    return key, report.to_manifest_json()


def plan(spark, files, range_bytes):
    """Every task as (key, path, cut): key (file index, range index), cut None for a whole file or
    (first byte, stop byte, first line) for a range, the ranges scanned on the executors."""
    nominal = [((i, k), f, r) for i, f in enumerate(files) for k, r in enumerate(ranges_of(f, range_bytes))]
    to_scan = [t for t in nominal if t[2] is not None]
    scanned = {}
    if to_scan:
        scanned = dict(spark.sparkContext.parallelize(to_scan, len(to_scan)).map(scan_one).collect())
    tasks, line = [], {}
    for key, path, r in nominal:  # in file and range order: the first lines add up
        if r is None:
            tasks.append((key, path, None))
            continue
        first, stop, newlines = scanned[key]
        at = line.get(key[0], 1)
        line[key[0]] = at + newlines
        if stop > first or key[1] == 0:  # a range holding no line start (inside a long line) has no task
            tasks.append((key, path, (first, stop, at)))
    return tasks


def gather(out, parts, keys):
    """Every part's records into place, a cut file's ranges appended in order (a whole file's moved)."""
    written = set()
    for key in keys:
        part = parts / "part-{:05}-{:05}".format(*key)
        for folder in ("SUCCESS", "FAILURE"):
            if not (part / folder).is_dir():
                continue
            (out / folder).mkdir(exist_ok=True)
            for record in sorted((part / folder).iterdir()):
                target = out / folder / record.name
                if target.exists() and (folder, record.name, key[0]) not in written:
                    sys.exit(f"two inputs would write the record file {record.name}")
                written.add((folder, record.name, key[0]))
                if key[1] == 0:
                    record.rename(target)
                else:
                    with open(target, "ab") as to, open(record, "rb") as src:
                        shutil.copyfileobj(src, to, 1 << 20)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="output folder (absent or empty)")
    parser.add_argument("--level", default="strict", choices=["strict", "structure-only", "minimal"])
    parser.add_argument(
        "--range-bytes", type=int, default=256 << 20, help="cut uncompressed files larger than this into ranges of it"
    )
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
        tasks = plan(spark, files, max(1, a.range_bytes))

        # Largest first, so that the long tasks start early; one partition per task.
        def size(task):
            return -(task[2][1] - task[2][0] if task[2] else os.path.getsize(task[1]))

        tasks = [(key, path, cut, str(parts), a.level) for key, path, cut in sorted(tasks, key=size)]
        results = dict(spark.sparkContext.parallelize(tasks, len(tasks)).map(validate_one).collect())
    finally:
        spark.stop()
    keys = sorted(results)
    cut = sum(1 for k in keys if k[1] > 0)
    print(f"{len(files)} files in {len(keys)} tasks ({cut} more for byte ranges of large files)", file=sys.stderr)
    # Record names are unique across inputs (the CLI refuses two inputs of one name).
    gather(out, parts, keys)
    per_file = {}
    for key in keys:
        per_file.setdefault(key[0], []).append(results[key])
    manifests = [texts[0] if len(texts) == 1 else fhir_preflight.merge_parts(texts) for _, texts in sorted(per_file.items())]
    manifest = fhir_preflight.merge_manifests(manifests, input_uri=input_uri(a.inputs), output_dir=a.output)
    shutil.rmtree(parts)
    staged = out / ".manifest.json.partial"
    staged.write_text(manifest)
    staged.rename(out / "manifest.json")  # last: a manifest always describes complete records
    print(manifest, end="")


if __name__ == "__main__":
    main()
