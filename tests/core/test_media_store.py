"""The media store contract, run against both backends: the filesystem and a real S3 server (moto)."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from photochanger.core.disk import InsufficientStorage
from photochanger.core.media_store import (
    InvalidKey,
    LocalStore,
    MediaStore,
    S3Settings,
    check_key,
    open_store,
)
from photochanger.core.s3_store import S3Store
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, MotoServer


def _s3_settings(moto: MotoServer, bucket: str, **extra: object) -> S3Settings:
    values: dict[str, object] = {
        "bucket": bucket,
        "endpoint_url": moto.endpoint,
        "region": REGION,
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
        **extra,
    }
    return S3Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MediaStore]:
    if request.param == "local":
        yield open_store(tmp_path / "media", min_free_mb=0, s3=None)
        return
    moto: MotoServer = request.getfixturevalue("moto_server")
    yield open_store(tmp_path / "media", min_free_mb=0, s3=_s3_settings(moto, moto.new_bucket()))


def test_a_put_object_reads_back_whole(store: MediaStore) -> None:
    store.put("results/slot-a/job-1.jpg", b"\xff\xd8result", "image/jpeg")

    assert store.read("results/slot-a/job-1.jpg") == b"\xff\xd8result"
    stat = store.stat("results/slot-a/job-1.jpg")
    assert stat is not None
    assert stat.size == 8
    assert stat.modified > 0
    handle = store.open("results/slot-a/job-1.jpg")
    assert handle is not None
    with handle:
        assert handle.read() == b"\xff\xd8result"


def test_an_absent_key_reads_as_none(store: MediaStore) -> None:
    assert store.read("results/slot-a/nothing.jpg") is None
    assert store.open("results/slot-a/nothing.jpg") is None
    assert store.stat("results/slot-a/nothing.jpg") is None
    assert not store.exists("results/slot-a/nothing.jpg")


def test_put_file_consumes_the_local_file(store: MediaStore, tmp_path: Path) -> None:
    source = tmp_path / "upload.png"
    source.write_bytes(b"\x89PNG template")

    store.put_file("templates/t1.png", source, "image/png")

    assert not source.exists()
    assert store.read("templates/t1.png") == b"\x89PNG template"


def test_put_copy_leaves_the_local_file_and_outlives_it(store: MediaStore, tmp_path: Path) -> None:
    source = tmp_path / "shot.upload"
    source.write_bytes(b"\xff\xd8 booth shot")

    store.put_copy("last_shots/slot-001", source, "image/jpeg")
    store.put_copy("originals/slot-001/job.jpg", source, "image/jpeg")

    assert source.read_bytes() == b"\xff\xd8 booth shot"
    source.unlink()  # the pipeline removes its upload when the job ends
    assert store.read("last_shots/slot-001") == b"\xff\xd8 booth shot"
    assert store.read("originals/slot-001/job.jpg") == b"\xff\xd8 booth shot"


def test_list_walks_one_tree_and_used_bytes_adds_every_tree(store: MediaStore) -> None:
    store.put("results/s1/a.jpg", b"1" * 10, "image/jpeg")
    store.put("results/s2/b.png", b"2" * 20, "image/png")
    store.put("previews/s1/a.jpg", b"3" * 5, "image/jpeg")
    store.put("templates/t.png", b"4" * 7, "image/png")

    listed = {obj.key: obj.size for obj in store.list("results")}

    assert listed == {"results/s1/a.jpg": 10, "results/s2/b.png": 20}
    assert store.used_bytes() == 42


def test_delete_removes_the_keys_and_leaves_the_others(store: MediaStore) -> None:
    for name in ("a", "b", "c"):
        store.put(f"results/s1/{name}.jpg", b"x", "image/jpeg")

    outcome = store.delete(["results/s1/a.jpg", "results/s1/b.jpg", "results/s1/gone.jpg"])

    assert not outcome.failed
    assert {"results/s1/a.jpg", "results/s1/b.jpg"} <= set(outcome.deleted)
    assert [obj.key for obj in store.list("results")] == ["results/s1/c.jpg"]


@pytest.mark.parametrize(
    "key",
    ["../etc/passwd", "/results/a.jpg", "results/../../x", "temp/owner.upload", "results", "results//a"],
)
def test_a_key_outside_the_media_trees_is_refused(store: MediaStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        check_key(key)
    with pytest.raises(ValueError, match=r"media key|escapes"):
        store.put(key, b"x", "image/jpeg")
    assert store.delete([key]).failed.keys() == {key}


def test_the_store_is_ready(store: MediaStore) -> None:
    assert store.check()


def test_the_local_store_serves_files_and_presigns_nothing(tmp_path: Path) -> None:
    store = open_store(tmp_path / "media", min_free_mb=0, s3=None)
    assert isinstance(store, LocalStore)
    store.put("results/s/j.jpg", b"x", "image/jpeg")

    assert store.local_path("results/s/j.jpg") == (tmp_path / "media/results/s/j.jpg").resolve()
    assert store.download_url("results/s/j.jpg", filename="p.jpg", content_type="image/jpeg") is None


def test_a_presigned_url_fetches_the_object_as_an_attachment(moto_server: MotoServer, tmp_path: Path) -> None:
    store = open_store(tmp_path, min_free_mb=0, s3=_s3_settings(moto_server, moto_server.new_bucket()))
    store.put("results/s/j.png", b"\x89PNG bytes", "image/png")

    url = store.download_url("results/s/j.png", filename="photo-j.png", content_type="image/png")

    assert url is not None
    assert "X-Amz-Expires=300" in url
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"\x89PNG bytes"
    assert response.headers["content-disposition"] == 'attachment; filename="photo-j.png"'
    assert response.headers["content-type"] == "image/png"
    assert store.local_path("results/s/j.png") is None


def test_a_key_prefix_keeps_installations_apart(moto_server: MotoServer, tmp_path: Path) -> None:
    bucket = moto_server.new_bucket()
    one = open_store(tmp_path, min_free_mb=0, s3=_s3_settings(moto_server, bucket, key_prefix="site-a/"))
    two = open_store(tmp_path, min_free_mb=0, s3=_s3_settings(moto_server, bucket, key_prefix="site-b"))
    one.put("results/s/j.jpg", b"a", "image/jpeg")

    assert two.read("results/s/j.jpg") is None
    assert [obj.key for obj in one.list("results")] == ["results/s/j.jpg"]
    assert moto_server.keys(bucket) == ["site-a/results/s/j.jpg"]


def test_delete_sends_at_most_1000_keys_per_request(moto_server: MotoServer, tmp_path: Path) -> None:
    bucket = moto_server.new_bucket()
    store = open_store(tmp_path, min_free_mb=0, s3=_s3_settings(moto_server, bucket))
    client = moto_server.client()
    keys = [f"results/s/{i:05d}.jpg" for i in range(2300)]
    for key in keys:
        client.put_object(Bucket=bucket, Key=key, Body=b"x")
    before = moto_server.requests(bucket, "POST", "delete")

    outcome = store.delete(keys)

    assert len(outcome.deleted) == 2300
    assert not outcome.failed
    assert moto_server.keys(bucket) == []
    assert moto_server.requests(bucket, "POST", "delete") - before == 3  # 1000 + 1000 + 300


def test_the_bucket_quota_refuses_what_would_pass_it(moto_server: MotoServer, tmp_path: Path) -> None:
    store = open_store(
        tmp_path, min_free_mb=0, s3=_s3_settings(moto_server, moto_server.new_bucket(), quota_bytes=100)
    )
    store.ensure_room(100)
    store.put("results/s/a.jpg", b"x" * 60, "image/jpeg")

    store.ensure_room(40)
    with pytest.raises(InsufficientStorage) as refused:
        store.ensure_room(41)
    assert refused.value.status_code == 507
    assert refused.value.code == "insufficient_storage"


def test_an_unreachable_bucket_is_not_ready(tmp_path: Path, moto_server: MotoServer) -> None:
    store = open_store(tmp_path, min_free_mb=0, s3=_s3_settings(moto_server, "no-such-bucket-here"))
    assert isinstance(store, S3Store)
    assert not store.check()
