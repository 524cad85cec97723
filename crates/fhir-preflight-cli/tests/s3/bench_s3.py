"""The README's S3 throughput row: one run, side by side, of `fhir-preflight validate` on a prefix of
the local S3-compatible server (moto on 127.0.0.1) and on the same files on local disk.

    target/s3-venv/bin/python crates/fhir-preflight-cli/tests/s3/bench_s3.py [--lines 1000000] [--files 10] [--rounds 3] [--threads N]

The corpus is the deterministic benchmark corpus (`cargo xtask gen-corpus`, about 1 GB for 1,000,000
lines) cut into FILES files. Each round times both, alternately; the best of the rounds is kept.
"""

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from test_s3 import BIN, ROOT, Server  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--lines", type=int, default=1_000_000)
    p.add_argument("--files", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=0, help="the CLI's -j (0: all cores)")
    a = p.parse_args()
    folder = ROOT / "target" / "corpus" / f"s3-bench-{a.lines}x{a.files}"
    if not folder.exists():
        whole = ROOT / "target" / "corpus" / f"s3-bench-{a.lines}.ndjson"
        subprocess.run(["cargo", "xtask", "gen-corpus", "--lines", str(a.lines), "--out", str(whole)], check=True, cwd=ROOT)
        part = folder.with_suffix(".partial")
        part.mkdir(parents=True, exist_ok=True)
        lines = whole.read_bytes().splitlines(keepends=True)
        per = -(-len(lines) // a.files)
        for i in range(a.files):
            (part / f"part-{i:03}.ndjson").write_bytes(b"".join(lines[i * per:(i + 1) * per]))
        part.rename(folder)
        whole.unlink()
    files = sorted(folder.iterdir())
    size = sum(f.stat().st_size for f in files)
    server = Server()
    try:
        server.s3.create_bucket(Bucket="bench")
        for f in files:
            server.s3.upload_file(str(f), "bench", f"in/{f.name}")
        env = server.env()

        cpu = {"local": [], "s3": []}

        def timed(target, key):
            t = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            threads = ["-j", str(a.threads)] if a.threads else []
            done = subprocess.run([str(BIN), "validate", *threads, "--format", "json", target], env=env, capture_output=True)
            assert done.returncode in (0, 1), done.stderr.decode()
            took = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[key].append((after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime))
            return took

        def server_cpu():
            fields = Path(f"/proc/{server.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        best = {"local": float("inf"), "s3": float("inf")}
        served = []
        for _ in range(a.rounds):
            best["local"] = min(best["local"], timed(str(folder), "local"))
            before = server_cpu()
            took = timed("s3://bench/in/", "s3")
            served.append((server_cpu() - before) / took)
            best["s3"] = min(best["s3"], took)
        mb = size / 1e6
        print(f"{len(files)} files, {size} bytes; best of {a.rounds} rounds each, alternately; {'-j ' + str(a.threads) if a.threads else 'all cores'}")
        print(f"| input | MB/s |\n|---|---:|")
        print(f"| local disk | {mb / best['local']:.0f} |")
        print(f"| S3 prefix on moto, 127.0.0.1 | {mb / best['s3']:.0f} |")
        print(f"S3 / local: {best['local'] / best['s3']:.2f}")
        print(f"the server's own CPU while serving: {min(served):.2f}-{max(served):.2f} cores of {os.cpu_count()}")
        for key in ("local", "s3"):
            user, system = min(cpu[key], key=sum)
            print(f"the CLI's CPU, {key}: {user:.2f} s user + {system:.2f} s system (the least of the rounds)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
