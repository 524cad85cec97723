"""fhir-preflight against a real S3- and KMS-speaking server on 127.0.0.1 (moto's standalone server,
with IAM authorization on), never a mock of the client: the CLI binary talks to it with the AWS SDK
for Rust exactly as it would to AWS.

Run by scripts/test (which builds the CLI and installs requirements.txt into target/s3-venv):
    FHIR_PREFLIGHT_BIN=target/release/fhir-preflight target/s3-venv/bin/pytest crates/fhir-preflight-cli/tests/s3
"""

import gzip
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[4]
BIN = Path(os.environ.get("FHIR_PREFLIGHT_BIN", ROOT / "target" / "release" / "fhir-preflight"))
REGION = "us-east-1"
# Records above this go up by multipart upload (S3's minimum part size).
PART = 5 * 1024 * 1024
COUNT_KEYS = [
    "numberOfScannedFiles",
    "numberOfFilesImported",
    "numberOfFilesReadWithSuccess",
    "numberOfFilesReadWithCustomerError",
    "numberOfFilesReadWithServerError",
    "sizeOfScannedFilesInMB",
    "sizeOfDataImportedSuccessfullyInMB",
    "numberOfResourcesScanned",
    "numberOfResourcesImportedSuccessfully",
    "numberOfResourcesWithCustomerError",
    "numberOfResourcesWithServerError",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


class Server:
    """moto's server with IAM on: an admin user (everything) and a limited one (bucket `open` only)."""

    def __init__(self):
        self.port = free_port()
        env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT="6")
        moto = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
        self.process = subprocess.Popen(
            [moto, "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.port)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        iam = self.client("iam", ("bootstrap", "bootstrap"))

        def user(name, resources):
            iam.create_user(UserName=name)
            key = iam.create_access_key(UserName=name)["AccessKey"]
            policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*" if resources == "*" else "s3:*", "Resource": resources}]}
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
            return key["AccessKeyId"], key["SecretAccessKey"]

        self.admin = user("admin", "*")
        self.limited = user("limited", ["arn:aws:s3:::open", "arn:aws:s3:::open/*"])
        self.s3 = self.client("s3", self.admin)
        self.kms_key = self.client("kms", self.admin).create_key()["KeyMetadata"]["Arn"]

    def client(self, service, keys):
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=keys[0],
            aws_secret_access_key=keys[1],
        )

    def env(self, keys=None, endpoint=None):
        """The CLI's environment: these credentials and endpoint, and nothing of this machine's AWS setup."""
        keys = keys or self.admin
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=keys[0],
            AWS_SECRET_ACCESS_KEY=keys[1],
            AWS_REGION=REGION,
            AWS_ENDPOINT_URL=endpoint or self.endpoint,
            AWS_EC2_METADATA_DISABLED="true",
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        )
        return env

    def objects(self, bucket, prefix):
        """Every object under the prefix: key -> bytes."""
        out = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for o in page.get("Contents", []):
                out[o["Key"][len(prefix):]] = self.s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
        return out

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


class Proxy:
    """A TCP proxy in front of the server that drops the connection while it sends the object
    `key` (after `after` bytes of the response): on the first GET of it only (`once`), or on every
    one (`always`)."""

    def __init__(self, upstream, key, mode, after=256 * 1024):
        self.upstream, self.needle, self.mode, self.after = upstream, f"GET /{key}".encode(), mode, after
        self.drops = 0
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream))
            state = {"armed": False, "sent": 0}
            threading.Thread(target=self.up, args=(client, server, state), daemon=True).start()
            threading.Thread(target=self.down, args=(server, client, state), daemon=True).start()

    def up(self, client, server, state):
        try:
            while data := client.recv(65536):
                if self.needle in data and (self.mode == "always" or self.drops == 0):
                    state["armed"], state["sent"] = True, 0
                server.sendall(data)
        except OSError:
            pass

    def down(self, server, client, state):
        try:
            while data := server.recv(65536):
                if state["armed"]:
                    state["sent"] += len(data)
                    if state["sent"] > self.after:
                        self.drops += 1
                        if self.after:
                            client.sendall(data[: len(data) // 2])
                        break
                client.sendall(data)
        except OSError:
            pass
        for s in (client, server):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def close(self):
        self.listener.close()


def run(args, env):
    return subprocess.run([str(BIN), *map(str, args)], env=env, capture_output=True, text=True, timeout=600)


def tree(folder):
    """Every record file under an output folder: relative name -> bytes (the manifest apart)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(Path(folder).rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


@pytest.fixture(scope="module")
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def corpus(server, tmp_path_factory):
    """50 objects under s3://inbox/bulk/ (some .gz, one empty, one larger than the multipart part
    size, made of the repository's fixtures) and a note that is not NDJSON; the same files in a
    local folder; and the CLI's outputs for the local folder."""
    local = tmp_path_factory.mktemp("local")
    sources = sorted(p for p in (ROOT / "fixtures").rglob("*.ndjson") if p.stat().st_size < 2_000_000)[:47]
    assert len(sources) == 47, f"only {len(sources)} fixture files"
    for i, source in enumerate(sources):
        data = source.read_bytes()
        if i % 6 == 0:
            (local / f"f{i:02}-{source.stem}.ndjson.gz").write_bytes(gzip.compress(data))
        else:
            (local / f"f{i:02}-{source.stem}.ndjson").write_bytes(data)
    (local / "f47-empty.ndjson").write_bytes(b"")
    example = (ROOT / "fixtures" / "example" / "bulk-export.ndjson").read_bytes()
    (local / "f48-big.ndjson").write_bytes(example * 280)  # ~11 MB, 44,800 lines: records over 5 MiB
    (local / "f49-synthea.ndjson.gz").write_bytes(gzip.compress((ROOT / "fixtures/synthea-us-core/Observation.ndjson").read_bytes()))
    assert len([p for p in local.iterdir()]) == 50
    server.s3.create_bucket(Bucket="inbox")
    server.s3.create_bucket(Bucket="outbox")
    server.s3.create_bucket(Bucket="open")
    server.s3.create_bucket(Bucket="locked")
    for p in sorted(local.iterdir()):
        server.s3.upload_file(str(p), "inbox", f"bulk/{p.name}")  # boto3: multipart above 8 MB
    server.s3.put_object(Bucket="inbox", Key="bulk/README.txt", Body=b"not NDJSON")
    server.s3.put_object(Bucket="locked", Key="x.ndjson", Body=b'{"resourceType":"Patient","id":"a"}\n')
    out = tmp_path_factory.mktemp("out") / "local"
    done = run(["validate", local, "-o", out, "--format", "json"], server.env())
    assert done.returncode == 1, done.stderr
    return {"local": local, "out": out, "manifest": json.loads((out / "manifest.json").read_text())}


def test_a_prefix_gives_the_local_records_byte_for_byte_with_sse_kms(server, corpus):
    done = run(
        ["validate", "s3://inbox/bulk/", "-o", "s3://outbox/run/", "--kms-key-id", server.kms_key,
         "--s3-part-size", PART, "--format", "json"],
        server.env(),
    )
    assert done.returncode == 1, done.stderr
    written = server.objects("outbox", "run/")
    manifest = json.loads(written.pop("manifest.json"))
    assert manifest == json.loads(done.stdout)
    assert written == tree(corpus["out"]), "the records differ from the local run's"
    for key in COUNT_KEYS:
        assert manifest[key] == corpus["manifest"][key], key
    assert manifest["numberOfScannedFiles"] == 50
    assert manifest["inputDataConfig"]["s3Uri"] == "s3://inbox/bulk/"
    assert manifest["outputDataConfig"] == {"s3Uri": "s3://outbox/run/", "encryptionKeyID": server.kms_key}
    assert manifest["failureOutput"]["failureOutputS3Uri"] == "s3://outbox/run/FAILURE/"
    # Every object written carries SSE-KMS with the key, as the server reports it.
    for o in server.s3.list_objects_v2(Bucket="outbox", Prefix="run/")["Contents"]:
        head = server.s3.head_object(Bucket="outbox", Key=o["Key"])
        assert head.get("ServerSideEncryption") == "aws:kms", o["Key"]
        assert head.get("SSEKMSKeyId") == server.kms_key, o["Key"]
    big = server.s3.head_object(Bucket="outbox", Key="run/SUCCESS/f48-big.ndjson")
    assert big["ContentLength"] > PART and "-" in big["ETag"], "the large record went up by multipart upload"
    # The note that is not NDJSON is skipped and said so.
    human = run(["validate", "s3://inbox/bulk/"], server.env())
    assert "s3://inbox/bulk/README.txt (not .ndjson or .ndjson.gz" in human.stdout, human.stdout


def test_an_s3_output_needs_a_kms_key_or_an_explicit_opt_out(server, corpus):
    local = sorted(corpus["local"].glob("f01-*"))[0]
    refused = run(["validate", local, "-o", "s3://outbox/plain/"], server.env())
    assert refused.returncode == 2 and "--kms-key-id" in refused.stderr, refused.stderr
    assert server.objects("outbox", "plain/") == {}
    done = run(["validate", local, "-o", "s3://outbox/plain/", "--allow-unencrypted-output"], server.env())
    assert done.returncode in (0, 1), done.stderr
    assert "manifest.json" in server.objects("outbox", "plain/")
    again = run(["validate", local, "-o", "s3://outbox/plain/", "--allow-unencrypted-output"], server.env())
    assert again.returncode == 2 and "not empty" in again.stderr, again.stderr
    forced = run(["validate", local, "-o", "s3://outbox/plain/", "--allow-unencrypted-output", "--force"], server.env())
    assert forced.returncode in (0, 1), forced.stderr


def test_four_shards_and_merge_equal_one_run(server, corpus, tmp_path):
    shards = []
    for i in range(4):
        out = tmp_path / f"shard-{i}"
        env = server.env()
        spec = f"{i}/4"
        if i == 3:  # as an AWS Batch array job's child runs it
            env["AWS_BATCH_JOB_ARRAY_INDEX"] = "3"
            spec = "auto/4"
        done = run(["validate", "s3://inbox/bulk/", "--shard", spec, "-o", out, "--format", "json"], env)
        assert done.returncode in (0, 1), done.stderr
        shards.append(out)
    counts = [json.loads((s / "manifest.json").read_text())["numberOfScannedFiles"] for s in shards]
    assert sum(counts) == 50 and all(c > 0 for c in counts), counts
    merged = tmp_path / "merged"
    done = run(["merge", "-o", merged, *shards], server.env())
    assert done.returncode == 0, done.stderr
    manifest = json.loads((merged / "manifest.json").read_text())
    for key in COUNT_KEYS:
        assert manifest[key] == corpus["manifest"][key], key
    assert manifest["inputDataConfig"]["s3Uri"] == "s3://inbox/bulk/"
    assert tree(merged) == tree(corpus["out"])
    # The parts without their records cannot show that no object was counted twice.
    refused = run(["merge", *shards], server.env())
    assert refused.returncode == 2 and "--shard" in refused.stderr, refused.stderr


def test_shards_and_merge_in_s3_as_an_array_job_and_its_dependent_job(server, corpus):
    # Each child of an AWS Batch array job writes its part to S3; the dependent job merges them.
    parts = []
    for i in range(4):
        env = dict(server.env(), AWS_BATCH_JOB_ARRAY_INDEX=str(i))
        out = f"s3://outbox/parts/{i}/"
        done = run(["validate", "s3://inbox/bulk/", "--shard", "auto/4", "-o", out, "--kms-key-id", server.kms_key], env)
        assert done.returncode in (0, 1), done.stderr
        parts.append(out)
    done = run(["merge", *parts, "-o", "s3://outbox/merged/", "--kms-key-id", server.kms_key], server.env())
    assert done.returncode == 0, done.stderr
    written = server.objects("outbox", "merged/")
    manifest = json.loads(written.pop("manifest.json"))
    assert written == tree(corpus["out"])
    for key in COUNT_KEYS:
        assert manifest[key] == corpus["manifest"][key], key
    assert manifest["outputDataConfig"] == {"s3Uri": "s3://outbox/merged/", "encryptionKeyID": server.kms_key}
    head = server.s3.head_object(Bucket="outbox", Key="merged/manifest.json")
    assert head.get("ServerSideEncryption") == "aws:kms"


def test_a_missing_object_is_an_unreadable_input(server, corpus):
    done = run(
        ["validate", "s3://inbox/bulk/missing.ndjson", "s3://inbox/bulk/f47-empty.ndjson", "-o", "s3://outbox/missing/",
         "--kms-key-id", server.kms_key, "--format", "json"],
        server.env(),
    )
    assert done.returncode == 2
    assert "s3://inbox/bulk/missing.ndjson" in done.stderr and "404" in done.stderr, done.stderr
    manifest = json.loads(done.stdout)
    assert manifest["numberOfScannedFiles"] == 2 and manifest["numberOfFilesReadWithCustomerError"] == 1


def test_a_forbidden_bucket_is_one_line_and_writes_nothing(server, corpus, tmp_path):
    out = tmp_path / "out"
    done = run(["validate", "s3://locked/", "-o", out], server.env(server.limited))
    assert done.returncode == 2
    assert "cannot list s3://locked/: access denied (HTTP 403)" in done.stderr, done.stderr
    assert not (out / "manifest.json").exists()
    done = run(["validate", "s3://locked/x.ndjson"], server.env(server.limited))
    assert done.returncode == 2 and "s3://locked/x.ndjson: access denied (HTTP 403)" in done.stderr, done.stderr


def test_a_connection_dropped_mid_object_is_resumed(server, corpus, tmp_path):
    proxy = Proxy(server.port, "inbox/bulk/f48-big.ndjson", "once")
    try:
        out = tmp_path / "resumed"
        done = run(["validate", "s3://inbox/bulk/f48-big.ndjson", "-o", out], server.env(endpoint=proxy.endpoint))
        assert proxy.drops == 1, "the proxy dropped the connection once"
        assert done.returncode == 1, done.stderr
        local = tmp_path / "local"
        run(["validate", corpus["local"] / "f48-big.ndjson", "-o", local], server.env())
        assert tree(out) == tree(local)
    finally:
        proxy.close()


def test_a_connection_that_keeps_dropping_fails_the_run_and_publishes_nothing(server, corpus):
    # Nothing of the object gets through, however often it is asked for (a connection that makes
    # progress is resumed for as long as it does).
    proxy = Proxy(server.port, "inbox/bulk/f48-big.ndjson", "always", after=0)
    try:
        # One attempt per request (the SDK's own retries would only make the test slower): the
        # resumes alone decide.
        env = dict(server.env(endpoint=proxy.endpoint), AWS_MAX_ATTEMPTS="1")
        done = run(["validate", "s3://inbox/bulk/", "-o", "s3://outbox/dropped/", "--kms-key-id", server.kms_key], env)
        assert done.returncode == 2, (proxy.drops, done.stdout, done.stderr)
        assert "s3://inbox/bulk/f48-big.ndjson" in done.stderr and "no manifest was written" in done.stderr, done.stderr
        assert proxy.drops >= 6
        assert server.objects("outbox", "dropped/") == {}, "nothing half-written"
    finally:
        proxy.close()
