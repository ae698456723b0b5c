"""Both bucket implementations, same behaviour: a folder, and S3 on a real moto server."""

from __future__ import annotations

import uuid
from datetime import UTC
from urllib.request import urlopen

import pytest

from flows.storage import LocalBucket, S3Bucket, StorageError, open_bucket


@pytest.fixture(params=["local", "s3"])
def bucket(request, tmp_path):
    if request.param == "local":
        return LocalBucket(tmp_path / "bucket")
    client = request.getfixturevalue("s3_client")
    name = f"test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return S3Bucket(name, client)


def test_write_read_list_stat(bucket):
    bucket.write_bytes("inbox/acme/eng-1/exec-1.m4a", b"audio")
    bucket.write_bytes("inbox/acme/eng-1/notes.txt", b"notes")
    bucket.write_bytes("processed/acme/eng-1/exec-1.txt", b"words")
    keys = [o.key for o in bucket.list("inbox/")]
    assert keys == ["inbox/acme/eng-1/exec-1.m4a", "inbox/acme/eng-1/notes.txt"]
    info = bucket.stat("inbox/acme/eng-1/exec-1.m4a")
    assert info.size == 5 and info.modified.tzinfo == UTC
    assert bucket.stat("inbox/nope") is None
    assert bucket.read_bytes("processed/acme/eng-1/exec-1.txt") == b"words"
    with pytest.raises(StorageError):
        bucket.read_bytes("inbox/nope")


def test_upload_download_copy(bucket, tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"\x00\x01" * 5000)
    bucket.upload(src, "quarantine/acme/eng-1/x.m4a")
    bucket.copy("quarantine/acme/eng-1/x.m4a", "quarantine/acme/eng-1/y.m4a")
    out = bucket.download("quarantine/acme/eng-1/y.m4a", tmp_path / "out.bin")
    assert out.read_bytes() == src.read_bytes()


def test_iter_chunks_streams_the_object(bucket):
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one chunk
    bucket.write_bytes("briefs/acme/eng-1/v1.zip", data)
    chunks = list(bucket.iter_chunks("briefs/acme/eng-1/v1.zip", chunk_size=100_000))
    assert len(chunks) > 1 and max(map(len, chunks)) <= 100_000
    assert b"".join(chunks) == data
    with pytest.raises(StorageError):  # at the call, before any byte is sent
        bucket.iter_chunks("briefs/acme/eng-1/v2.zip")
    with pytest.raises(StorageError):
        bucket.iter_chunks("../outside")


def test_presigned_url_serves_the_object(bucket):
    bucket.write_bytes("briefs/acme/eng-1/v1.zip", b"zip!")
    url = bucket.presign("briefs/acme/eng-1/v1.zip")
    with urlopen(url) as r:  # noqa: S310 - a file:// or loopback URL made by the test
        assert r.read() == b"zip!"


@pytest.mark.parametrize("key", ["../outside", "/etc/passwd", "inbox/../../x", "a\\b", ""])
def test_keys_cannot_leave_the_bucket(bucket, key):
    with pytest.raises(StorageError):
        bucket.write_bytes(key, b"x")


def test_open_bucket(tmp_path):
    assert isinstance(open_bucket(str(tmp_path / "b")), LocalBucket)
    with pytest.raises(StorageError, match="s3://<bucket-name>"):
        open_bucket("s3://name/with/path")
