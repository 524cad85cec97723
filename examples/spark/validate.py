"""Validate many NDJSON files with fhir-preflight on Spark, into one HealthLake-shaped result.

    spark-submit examples/spark/validate.py --output OUT [--level strict] [--range-bytes N] INPUT...

INPUT: files (`.ndjson`, `.ndjson.gz`) or folders (their `.ndjson` and `.ndjson.gz` files, sorted, as
the CLI reads a folder), on a file system every executor sees (local in `local[N]` mode; a shared
mount, or files fetched first, on a cluster). One task per file, largest first — and an uncompressed
file larger than `--range-bytes` (default 256 MiB) is cut into byte ranges of about that size, one
task each: a first, cheap stage reads each range once to find its first line start and its newlines
(`fhir_preflight.scan_range`), the driver turns them into parts cut at newlines with their first line
numbers (`fhir_preflight.plan_parts`), and every part is validated with the whole file's line numbers
(`validate_file(byte_range=..., first_line=...)`). A gzipped file cannot be read from the middle and
is always one task. Each task is validated by the `fhir_preflight` package (installed on every
executor: `--py-files` cannot carry a compiled wheel; use `spark.archives`/`--archives` with a packed
environment, EMR bootstrap actions, Glue's `--additional-python-modules`, or a Databricks cluster
library) into a part folder of its own attempt; the driver then moves the parts' records into OUT/SUCCESS and
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
    """Executor side: a nominal range's first line start and newlines (reading only its bytes)."""
    import fhir_preflight

    key, path, (start, end) = task
    return key, (start, end, fhir_preflight.scan_range(path, start, end))


def validate_one(task):
    """Executor side: one file, or one part of a file, into a part folder of its own attempt (a
    retried or speculative attempt never touches another's); returns (key, (folder, manifest))."""
    from pyspark import TaskContext

    import fhir_preflight

    key, path, cut, parts, level = task
    context = TaskContext.get()
    attempt = context.taskAttemptId() if context else 0
    out = os.path.join(parts, "part-{:05}-{:05}-{}".format(*key, attempt))
    if os.path.exists(out):
        shutil.rmtree(out)
    if cut is None:
        report = fhir_preflight.validate_file(path, level=level, output_dir=out, threads=1)
    else:
        first, stop, first_line = cut
        report = fhir_preflight.validate_file(
            path, level=level, output_dir=out, threads=1, byte_range=(first, stop), first_line=first_line
        )
    return key, (out, report.to_manifest_json())


def plan(spark, files, range_bytes):
    """Every task as (key, path, cut): key (file index, part index), cut None for a whole file or
    (first byte, stop byte, first line) for a part, the ranges scanned on the executors."""
    import fhir_preflight

    nominal = [((i, k), f, r) for i, f in enumerate(files) for k, r in enumerate(ranges_of(f, range_bytes))]
    to_scan = [t for t in nominal if t[2] is not None]
    scanned = {}
    if to_scan:
        scanned = dict(spark.sparkContext.parallelize(to_scan, len(to_scan)).map(scan_one).collect())
    tasks = []
    for i, path in enumerate(files):
        ranges = [key for key, _, r in nominal if key[0] == i and r is not None]
        if not ranges:
            tasks.append(((i, 0), path, None))
            continue
        parts = fhir_preflight.plan_parts(os.path.getsize(path), [scanned[key] for key in ranges])
        tasks += [((i, k), path, part) for k, part in enumerate(parts)]
    return tasks


def record_name(path):
    """The record file name of an input, as the CLI names it (its base name, `.gz` dropped)."""
    name = os.path.basename(path)
    return name[:-3] if name.endswith(".gz") else name


def gather(out, folders):
    """Every part's records into place, in (file, part) order: a whole file's moved, a cut file's
    parts appended in order (created private, as the CLI writes records: they hold patient data)."""
    for key, folder in sorted(folders.items()):
        for kind in ("SUCCESS", "FAILURE"):
            src = Path(folder) / kind
            if not src.is_dir():
                continue
            (out / kind).mkdir(exist_ok=True)
            for record in sorted(src.iterdir()):
                target = out / kind / record.name
                if key[1] == 0 and not target.exists():
                    record.rename(target)
                    continue
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                with os.fdopen(fd, "ab") as to, open(record, "rb") as part:
                    shutil.copyfileobj(part, to, 1 << 20)


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
    # Two inputs of one record name would write one record file (the CLI refuses them up front).
    names = {}
    for f in files:
        if record_name(f) in names:
            sys.exit(f"two inputs would write the record file {record_name(f)}: {names[record_name(f)]} and {f}")
        names[record_name(f)] = f
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
    gather(out, {key: folder for key, (folder, _) in results.items()})
    per_file = {}
    for key in keys:
        per_file.setdefault(key[0], []).append(results[key][1])
    manifests = [texts[0] if len(texts) == 1 else fhir_preflight.merge_parts(texts) for _, texts in sorted(per_file.items())]
    manifest = fhir_preflight.merge_manifests(manifests, input_uri=input_uri(a.inputs), output_dir=a.output)
    shutil.rmtree(parts)
    staged = out / ".manifest.json.partial"
    staged.write_text(manifest)
    staged.rename(out / "manifest.json")  # last: a manifest always describes complete records
    print(manifest, end="")


if __name__ == "__main__":
    main()
