"""The bucket: one protocol, two real implementations with the same keys and behaviour.

``LocalBucket`` is a folder (the embedded default); ``S3Bucket`` talks to S3 (or any
S3-compatible server) through boto3 with the standard AWS environment. Keys always use ``/``.
Writes are atomic: a reader never sees half an object.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Protocol


class StorageError(Exception):
    """A bucket operation failed; the message names the bucket, the key and what to do."""


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    modified: datetime  # UTC
    etag: str = ""


def check_key(key: str) -> str:
    """Refuse keys that could leave the bucket (``..``, absolute paths, backslashes)."""
    p = PurePosixPath(key)
    bad_part = any(part in ("..", ".") for part in p.parts)
    if not key or key.startswith("/") or "\\" in key or bad_part:
        raise StorageError(f"invalid bucket key {key!r}: keys are relative paths without '..'")
    return key


#: streamed reads hand out this much at a time: a brief of any size costs 1 MiB of memory
CHUNK = 1 << 20


class Bucket(Protocol):
    url: str

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...
    def stat(self, key: str) -> ObjectInfo | None: ...
    def read_bytes(self, key: str) -> bytes: ...
    def iter_chunks(self, key: str, chunk_size: int = CHUNK) -> Iterator[bytes]: ...
    def write_bytes(self, key: str, data: bytes) -> None: ...
    def download(self, key: str, target: Path) -> Path: ...
    def upload(self, source: Path, key: str) -> None: ...
    def copy(self, source_key: str, target_key: str) -> None: ...
    def presign(self, key: str, expires_s: int = 900) -> str: ...


class LocalBucket:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.url = self.root.as_uri()

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        base = self.root
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames):
                if name.startswith(".outtask-tmp-"):
                    continue
                p = Path(dirpath) / name
                key = p.relative_to(base).as_posix()
                if key.startswith(prefix):
                    st = p.stat()
                    yield ObjectInfo(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    def stat(self, key: str) -> ObjectInfo | None:
        p = self._path(key)
        if not p.is_file():
            return None
        st = p.stat()
        return ObjectInfo(key, st.st_size, datetime.fromtimestamp(st.st_mtime, UTC))

    def read_bytes(self, key: str) -> bytes:
        p = self._path(key)
        try:
            return p.read_bytes()
        except FileNotFoundError:
            raise StorageError(f"{self.url}: no object {key!r}") from None

    def iter_chunks(self, key: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The object's bytes, a chunk at a time. Opened before the first chunk, so a missing
        object raises at the call, not half-way into a response."""
        try:
            f = self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise StorageError(f"{self.url}: no object {key!r}") from None

        def chunks() -> Iterator[bytes]:
            with f:
                while data := f.read(chunk_size):
                    yield data

        return chunks()

    def _atomic(self, key: str) -> tuple[Path, Path]:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".outtask-tmp-")
        os.close(fd)
        return target, Path(tmp)

    def write_bytes(self, key: str, data: bytes) -> None:
        target, tmp = self._atomic(key)
        tmp.write_bytes(data)
        tmp.replace(target)

    def download(self, key: str, target: Path) -> Path:
        src = self._path(key)
        if not src.is_file():
            raise StorageError(f"{self.url}: no object {key!r}")
        shutil.copyfile(src, target)
        return target

    def upload(self, source: Path, key: str) -> None:
        target, tmp = self._atomic(key)
        shutil.copyfile(source, tmp)
        tmp.replace(target)

    def copy(self, source_key: str, target_key: str) -> None:
        self.upload(self._path(source_key), target_key)

    def presign(self, key: str, expires_s: int = 900) -> str:
        return self._path(key).as_uri()


def aws_client(service: str, **kwargs: Any) -> Any:
    """A boto3 client from the standard AWS environment. Also honours ``AWS_REGION``
    (CONVENTIONS.md), which this boto3 reads only as ``AWS_DEFAULT_REGION``."""
    import boto3

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    return boto3.client(service, region_name=region, **kwargs)


class S3Bucket:
    """An S3 bucket; the client comes from the standard AWS environment unless given."""

    def __init__(self, name: str, client=None) -> None:
        if client is None:
            client = aws_client("s3")
        self.name = name
        self.client = client
        self.url = f"s3://{name}"

    def _info(self, key: str, size: int, modified: datetime, etag: str) -> ObjectInfo:
        return ObjectInfo(key, size, modified.astimezone(UTC), etag.strip('"'))

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name,
                                                                       Prefix=prefix)
        for page in pages:
            for o in page.get("Contents", ()):
                yield self._info(o["Key"], o["Size"], o["LastModified"], o.get("ETag", ""))

    def stat(self, key: str) -> ObjectInfo | None:
        from botocore.exceptions import ClientError

        try:
            r = self.client.head_object(Bucket=self.name, Key=check_key(key))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return self._info(key, r["ContentLength"], r["LastModified"], r.get("ETag", ""))

    def read_bytes(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.name, Key=check_key(key))["Body"].read()
        except ClientError as e:
            raise StorageError(f"{self.url}: cannot read {key!r}: {e}") from e

    def iter_chunks(self, key: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.name, Key=check_key(key))["Body"]
        except ClientError as e:
            raise StorageError(f"{self.url}: cannot read {key!r}: {e}") from e
        return body.iter_chunks(chunk_size)

    def write_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=check_key(key), Body=data)

    def download(self, key: str, target: Path) -> Path:
        self.client.download_file(self.name, check_key(key), str(target))
        return target

    def upload(self, source: Path, key: str) -> None:
        self.client.upload_file(str(source), self.name, check_key(key))

    def copy(self, source_key: str, target_key: str) -> None:
        self.client.copy_object(Bucket=self.name, Key=check_key(target_key),
                                CopySource={"Bucket": self.name, "Key": check_key(source_key)})

    def presign(self, key: str, expires_s: int = 900) -> str:
        return self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.name, "Key": check_key(key)},
            ExpiresIn=expires_s)


def open_bucket(url: str) -> Bucket:
    """``s3://name`` or a folder path."""
    if url.startswith("s3://"):
        name = url[5:].strip("/")
        if not name or "/" in name:
            raise StorageError(f"OUTTASK_BUCKET={url!r}: use s3://<bucket-name> with no path")
        return S3Bucket(name)
    return LocalBucket(Path(url))
