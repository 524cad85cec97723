"""The Python package against the CLI: the same manifests and records, byte for byte, on the fixtures.

Run by scripts/test, which builds the wheel with maturin and installs it into a fresh virtual
environment (target/py-venv):
    FHIR_PREFLIGHT_BIN=target/release/fhir-preflight target/py-venv/bin/pytest crates/fhir-preflight-py/tests
"""

import gzip
import json
import os
import random
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

import fhir_preflight

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(os.environ.get("FHIR_PREFLIGHT_BIN", ROOT / "target" / "release" / "fhir-preflight"))
FIXTURES = sorted(
    p for p in (ROOT / "fixtures").rglob("*.ndjson*")
    if p.suffix in (".ndjson", ".gz") and p.stat().st_size < 3_000_000
)


def cli(*args):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, timeout=300)


def tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def name(p):
    return p.relative_to(ROOT).as_posix()


@pytest.fixture(autouse=True)
def at_the_root(monkeypatch):
    # Inputs are named relative to the repository, as a user would give them.
    monkeypatch.chdir(ROOT)


def test_there_are_fixtures():
    assert len(FIXTURES) > 40


@pytest.mark.parametrize("path", FIXTURES, ids=name)
def test_manifest_and_records_equal_the_clis(path, tmp_path):
    rel = path.relative_to(ROOT)
    report = fhir_preflight.validate_file(rel, output_dir=tmp_path / "py")
    done = subprocess.run([str(BIN), "validate", rel, "-o", tmp_path / "cli", "--format", "json"], cwd=ROOT, capture_output=True)
    assert done.returncode in (0, 1), done.stderr
    py, theirs = tree(tmp_path / "py"), tree(tmp_path / "cli")
    manifest = py.pop("manifest.json").decode().replace(str(tmp_path / "py"), str(tmp_path / "cli"))
    assert manifest == theirs.pop("manifest.json").decode()
    assert py == theirs, "records differ"
    # Without an output folder: the manifest the CLI prints.
    alone = subprocess.run([str(BIN), "validate", rel, "--format", "json"], cwd=ROOT, capture_output=True)
    assert fhir_preflight.validate_file(rel).to_manifest_json() == alone.stdout.decode()
    assert report.resources_scanned == json.loads(alone.stdout)["numberOfResourcesScanned"]


@pytest.mark.parametrize("path", [p for p in FIXTURES if p.suffix == ".ndjson"][::4], ids=name)
def test_failed_lines_are_the_clis(path):
    report = fhir_preflight.validate_file(path)
    failed = list(report.failed_lines())
    assert len(failed) == report.resources_failed
    done = cli("validate", path, "--format", "ndjson")
    streamed = [json.loads(l) for l in done.stdout.decode().splitlines() if l.strip()]
    lines = {f.line for f in failed}
    notes = {(n.code, n.message) for n in report.notes}
    expected = sorted(
        (d["line"], d["code"], d["column"], d["path"])
        for d in streamed
        if d.get("line") in lines and (d["code"], d["message"]) not in notes
    )
    got = sorted((f.line, d.code, d.column, d.path) for f in failed for d in f.diagnostics)
    assert got == expected


def test_bytes_and_chunks_equal_the_file():
    path = ROOT / "fixtures" / "example" / "bulk-export.ndjson"
    data = path.read_bytes()
    whole = fhir_preflight.validate_file(path)
    by_bytes = fhir_preflight.validate_bytes(data, name=str(path))
    assert by_bytes.to_manifest_json() == whole.to_manifest_json()
    rng = random.Random(7)
    for _ in range(5):
        v = fhir_preflight.Validator(name=str(path))
        at = 0
        while at < len(data):
            n = rng.randint(1, 5000)
            v.feed(data[at:at + n])
            at += n
        streamed = v.finish()
        assert streamed.to_manifest_json() == whole.to_manifest_json()
        assert [f.line for f in streamed.failed_lines()] == [f.line for f in whole.failed_lines()]
    with pytest.raises(ValueError):
        v.finish()


def test_levels_and_threads():
    path = ROOT / "fixtures" / "rules" / "us-core-profiles.ndjson"
    strict = fhir_preflight.validate_file(path, level="strict")
    structure = fhir_preflight.validate_file(path, level="structure-only", threads=1)
    assert strict.resources_failed > structure.resources_failed
    for level in ("strict", "structure-only", "minimal"):
        done = cli("validate", path, "--level", level, "--format", "json")
        assert fhir_preflight.validate_file(path, level=level, threads=2).to_manifest_json() == done.stdout.decode()


def test_merge_is_the_clis(tmp_path):
    paths = [ROOT / "fixtures" / "example" / "bulk-export.ndjson", ROOT / "fixtures" / "synthea-us-core" / "Patient.ndjson"]
    reports = [fhir_preflight.validate_file(p) for p in paths]
    for i, p in enumerate(paths):
        (tmp_path / f"{i}.json").write_bytes(cli("validate", p, "--format", "json").stdout)
    done = cli("merge", tmp_path / "0.json", tmp_path / "1.json")
    assert done.returncode == 0, done.stderr
    merged = fhir_preflight.merge(reports)
    assert merged.to_manifest_json() == done.stdout.decode()
    assert len(list(merged.failed_lines())) == sum(r.resources_failed for r in reports)


def test_merge_manifests_is_the_clis_merge(tmp_path):
    paths = [ROOT / "fixtures" / "example" / "bulk-export.ndjson", ROOT / "fixtures" / "synthea-us-core" / "Patient.ndjson"]
    for i, p in enumerate(paths):
        (tmp_path / f"{i}.json").write_bytes(cli("validate", p, "--format", "json").stdout)
    done = cli("merge", tmp_path / "0.json", tmp_path / "1.json")
    texts = [(tmp_path / f"{i}.json").read_text() for i in range(2)]
    assert fhir_preflight.merge_manifests(texts) == done.stdout.decode()
    with_dir = fhir_preflight.merge_manifests(texts, input_uri="s3://b/in/", output_dir="out")
    assert json.loads(with_dir)["failureOutput"]["failureOutputS3Uri"] == "out/FAILURE/"
    with pytest.raises(ValueError):
        fhir_preflight.merge_manifests(["{}"])


def test_bad_input_is_a_python_exception(tmp_path):
    with pytest.raises(OSError, match="cannot read .*missing.ndjson"):
        fhir_preflight.validate_file(tmp_path / "missing.ndjson")
    with pytest.raises(ValueError):
        fhir_preflight.validate_file(ROOT / "fixtures" / "example" / "bulk-export.ndjson", level="lenient")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        fhir_preflight.validate_file(ROOT / "fixtures" / "example" / "bulk-export.ndjson", output_dir=tmp_path / "out")
    # Not NDJSON at all: a verdict, not a crash.
    report = fhir_preflight.validate_bytes(b"\x00\xff{[\n" * 1000)
    assert report.resources_failed == 1000


def test_gzip_is_read_transparently(tmp_path):
    data = (ROOT / "fixtures" / "example" / "bulk-export.ndjson").read_bytes()
    (tmp_path / "a.ndjson.gz").write_bytes(gzip.compress(data))
    assert fhir_preflight.validate_file(tmp_path / "a.ndjson.gz").resources_scanned == 160


def test_ctrl_c_stops_a_long_call(tmp_path):
    line = (ROOT / "fixtures" / "example" / "bulk-export.ndjson").read_bytes()
    big = tmp_path / "big.ndjson"
    with big.open("wb") as f:
        for _ in range(16000):  # ~620 MB: seconds of work on one thread, however fast the machine
            f.write(line)
    # Python's own handler, as in an interactive session: a process started in the background by a
    # non-interactive shell inherits SIGINT ignored, and Python then keeps ignoring it.
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer = threading.Timer(0.1, lambda: os.kill(os.getpid(), signal.SIGINT))
        start = time.monotonic()
        timer.start()
        with pytest.raises(KeyboardInterrupt):
            fhir_preflight.validate_file(big, threads=1)
        # Stopped within a chunk or two of the signal, long before the end.
        assert time.monotonic() - start < 1.5
    finally:
        signal.signal(signal.SIGINT, before)


def test_the_work_runs_without_the_gil():
    # Long enough that a call holding the GIL would stall the other thread for all of it.
    data = (ROOT / "fixtures" / "example" / "bulk-export.ndjson").read_bytes() * 8000
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.001)

    t = threading.Thread(target=tick)
    t.start()
    start = time.monotonic()
    fhir_preflight.validate_bytes(data, threads=1)
    took = time.monotonic() - start
    stop.set()
    t.join()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert took > 0.3, f"too short to tell ({took:.2f} s)"
    assert max(gaps) < took / 3, (len(ticks), max(gaps), took)


def validate_in_ranges(path, out, range_bytes):
    """`path` cut into byte ranges of `range_bytes`, each scanned and validated on its own as the
    Spark job does, its records concatenated in range order; returns the file's manifest."""
    size = path.stat().st_size
    cuts = [(s, min(s + range_bytes, size)) for s in range(0, size, range_bytes)]
    scans = [(s, e, fhir_preflight.scan_range(path, s, e)) for s, e in cuts]
    parts = fhir_preflight.plan_parts(size, scans)
    manifests = []
    for k, (first, stop, line) in enumerate(parts):
        part = out / f"part-{k}"
        report = fhir_preflight.validate_file(path, output_dir=part, byte_range=(first, stop), first_line=line)
        manifests.append(report.to_manifest_json())
        for record in sorted(part.rglob("*.ndjson")):
            target = out / "merged" / record.relative_to(part)
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "ab") as f:
                f.write(record.read_bytes())
    if not manifests:  # an empty file: no part
        manifests = [fhir_preflight.validate_file(path, output_dir=out / "merged").to_manifest_json()]
        (out / "merged" / "manifest.json").unlink()
    return fhir_preflight.merge_parts(manifests, output_dir=str(out / "merged"))


@pytest.mark.parametrize("path", [p for p in FIXTURES if p.suffix == ".ndjson"], ids=name)
def test_byte_ranges_add_up_to_the_file(path, tmp_path):
    rel = path.relative_to(ROOT)
    done = subprocess.run([str(BIN), "validate", rel, "-o", tmp_path / "cli", "--format", "json"], cwd=ROOT, capture_output=True)
    assert done.returncode in (0, 1), done.stderr
    theirs = tree(tmp_path / "cli")
    expected = theirs.pop("manifest.json").decode().replace(str(tmp_path / "cli"), str(tmp_path / "r" / "merged"))
    # Ranges smaller than most lines (at most 50 of them), about a third of the file, and the whole file.
    size = path.stat().st_size
    for range_bytes in sorted({max(97, size // 50), max(1, size // 3), size + 1}):
        out = tmp_path / "r"
        manifest = validate_in_ranges(rel, out, range_bytes)
        assert manifest == expected, f"manifest in ranges of {range_bytes} bytes"
        assert tree(out / "merged") == theirs, f"records in ranges of {range_bytes} bytes"
        subprocess.run(["rm", "-rf", str(out)], check=True)


def test_byte_ranges_that_are_not_cut_at_newlines_are_refused(tmp_path):
    f = tmp_path / "two.ndjson"
    f.write_bytes(b'{"resourceType":"Patient","id":"a"}\n{"resourceType":"Patient","id":"b"}\n')
    with pytest.raises(ValueError, match="does not start at a line start"):
        fhir_preflight.validate_file(f, byte_range=(5, 72), first_line=1)
    with pytest.raises(ValueError, match="does not end at a line start"):
        fhir_preflight.validate_file(f, byte_range=(0, 40))
    with pytest.raises(ValueError, match="needs its first_line"):
        fhir_preflight.validate_file(f, byte_range=(36, 72))
    with pytest.raises(ValueError, match="1-based"):
        fhir_preflight.validate_file(f, byte_range=(36, 72), first_line=0)
    with pytest.raises(ValueError, match="outside its 72 bytes"):
        fhir_preflight.validate_file(f, byte_range=(36, 80), first_line=2)
    with pytest.raises(ValueError, match="ends before it starts"):
        fhir_preflight.validate_file(f, byte_range=(40, 36), first_line=2)
    # Line starts and newlines, each range reading only its own bytes.
    assert fhir_preflight.scan_range(f, 0, 5) == (0, 0)
    assert fhir_preflight.scan_range(f, 5, 40) == (36, 1)
    assert fhir_preflight.scan_range(f, 40, 72) == (None, 0)
    assert fhir_preflight.plan_parts(72, [(0, 5, (0, 0)), (5, 40, (36, 1)), (40, 72, (None, 0))]) == [(0, 36, 1), (36, 72, 2)]
    with pytest.raises(ValueError, match="consecutive"):
        fhir_preflight.plan_parts(72, [(0, 5, (0, 0)), (6, 72, (36, 1))])
    report = fhir_preflight.validate_file(f, byte_range=(36, 72), first_line=2)
    assert (report.resources_scanned, report.counts["sizeOfScannedFilesInMB"]) == (1, 0.000036)
    assert [x.line for x in fhir_preflight.validate_file(tmp_path / "two.ndjson", byte_range=(36, 72), first_line=2).failed_lines()] == []
    gz = tmp_path / "two.ndjson.gz"
    gz.write_bytes(gzip.compress(f.read_bytes()))
    with pytest.raises(ValueError, match="compressed"):
        fhir_preflight.scan_range(gz, 0, 10)
    with pytest.raises(ValueError, match="compressed"):
        fhir_preflight.validate_file(gz, byte_range=(0, 10))
    with pytest.raises(ValueError, match="parts of one file only"):
        fhir_preflight.merge_parts([report.to_manifest_json(), fhir_preflight.validate_file(gz).to_manifest_json()])
