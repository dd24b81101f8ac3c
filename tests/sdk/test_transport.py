"""The transport against a real HTTP server: retries, Idempotency-Key, Retry-After, errors."""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from pictograph import (
    ApiError,
    AuthError,
    Client,
    ConflictError,
    ForbiddenError,
    NetworkError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    RequestTimeoutError,
    ServerError,
    ValidationError,
)
from pictograph._transport import Transport

from .conftest import Seen, _free_port

KEY = "pk_test_secret"


def fast(base_url: str, *, timeout: float = 30.0, max_retries: int = 3) -> Transport:
    """A transport whose backoff is a hundredth of the real one, to keep tests quick."""
    return Transport(
        base_url, api_key=KEY, timeout=timeout, max_retries=max_retries, backoff_base=0.01
    )


def test_a_503_is_retried_until_the_server_answers_200(flaky_url: str, name: str, seen: Seen):
    with fast(flaky_url) as transport:
        body = transport.request_json("GET", f"/api/flaky/{name}", params={"fail": 2})
    assert body == {"data": {"attempt": 3}}
    assert len(seen(name)) == 3


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_each_transient_status_is_retried_until_the_server_answers_200(
    flaky_url: str, name: str, seen: Seen, status: int
):
    with fast(flaky_url) as transport:
        body = transport.request_json(
            "POST", f"/api/flaky/{name}", params={"fail": 2, "status": status}, json={}
        )
    assert body == {"data": {"attempt": 3}}
    assert len(seen(name)) == 3


def test_a_retry_after_on_a_503_is_not_waited_for_only_a_429s_is(
    flaky_url: str, name: str, seen: Seen
):
    # The reference retry policy (section 1.6) honours Retry-After on 429 only.
    with fast(flaky_url) as transport:
        started = time.monotonic()
        body = transport.request_json(
            "GET", f"/api/flaky/{name}", params={"status": 503, "retry_after": 5}
        )
        elapsed = time.monotonic() - started
    assert body == {"data": {"attempt": 2}}
    assert elapsed < 2.5
    assert seen(name)[0]["path"] == f"/api/flaky/{name}" and len(seen(name)) == 2


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, ValidationError),
        (401, AuthError),
        (403, ForbiddenError),
        (404, NotFoundError),
        (413, PayloadTooLargeError),
    ],
)
def test_client_errors_are_raised_at_once_without_a_retry(
    flaky_url: str, name: str, seen: Seen, status: int, error_class: type[ApiError]
):
    with fast(flaky_url) as transport, pytest.raises(ApiError) as caught:
        transport.request_json("POST", f"/api/error/{name}", params={"status": status}, json={})
    assert type(caught.value) is error_class and caught.value.status_code == status
    assert len(seen(name)) == 1


@contextmanager
def hanging_up_server(drops: int, unavailable: int = 0) -> Iterator[tuple[str, list[bytes]]]:
    """A real socket server that reads each request and, for the first ``drops`` connections,
    hangs up without answering; the next ``unavailable`` get a 503, later ones a 200 JSON
    answer. Yields (URL, requests seen).
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)  # so the loop sees ``done`` soon after the block ends
    requests: list[bytes] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(5)
            with connection:
                requests.append(connection.recv(65536))
                if len(requests) > drops:
                    busy = len(requests) <= drops + unavailable
                    status = b"503 Service Unavailable" if busy else b"200 OK"
                    body = b'{"data": {"answered": true}}'
                    connection.sendall(
                        b"HTTP/1.1 "
                        + status
                        + b"\r\nContent-Type: application/json\r\n"
                        + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
                        + body
                    )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", requests
    finally:
        done.set()
        thread.join(timeout=5)
        listener.close()


def test_a_connection_dropped_without_an_answer_is_retried_with_the_same_idempotency_key():
    with hanging_up_server(drops=2) as (url, requests), fast(url) as transport:
        body = transport.request_json("POST", "/api/anything", json={"a": 1})
    assert body == {"data": {"answered": True}}
    assert len(requests) == 3
    keys = [re.search(rb"idempotency-key: (\w+)", r, re.IGNORECASE) for r in requests]
    assert all(keys) and len({match.group(1) for match in keys if match}) == 1


def test_a_lossy_link_gets_three_times_the_retries_for_connections_broken_mid_request():
    with hanging_up_server(drops=7) as (url, requests), fast(url) as transport:
        body = transport.request_json("POST", "/api/anything", json={"a": 1})
    assert body == {"data": {"answered": True}}
    assert len(requests) == 8  # 7 broken, then answered: more than max_retries=3 allows


def test_broken_connections_do_not_use_up_the_retries_of_an_error_status_after_them():
    """A server restarting: connections break, then it answers 503 for a while, then 200. The
    breaks have their own budget, so the 503s still get ``max_retries`` (before, the breaks had
    used it up and the first 503 was final)."""
    with (
        hanging_up_server(drops=5, unavailable=2) as (url, requests),
        fast(url) as transport,
    ):
        body = transport.request_json("POST", "/api/anything", json={"a": 1})
    assert body == {"data": {"answered": True}}
    assert len(requests) == 5 + 2 + 1


def test_connections_broken_mid_request_still_give_up_after_three_times_the_retries():
    with (
        hanging_up_server(drops=100) as (url, requests),
        fast(url) as transport,
        pytest.raises(NetworkError),
    ):
        transport.request_json("POST", "/api/anything", json={"a": 1})
    assert len(requests) == 1 + 3 * 3


def test_every_retry_of_one_post_carries_the_same_idempotency_key(
    flaky_url: str, name: str, seen: Seen
):
    with fast(flaky_url) as transport:
        transport.request_json("POST", f"/api/flaky/{name}", params={"fail": 2}, json={"a": 1})
        transport.request_json("POST", f"/api/flaky/{name}", json={"a": 1})
    keys = [request["headers"]["idempotency-key"] for request in seen(name)]
    assert len(keys) == 4
    assert keys[0] == keys[1] == keys[2]
    assert keys[3] != keys[0]
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys)


def test_get_and_delete_carry_no_idempotency_key_but_put_and_patch_do(
    flaky_url: str, name: str, seen: Seen
):
    with fast(flaky_url) as transport:
        for method in ("GET", "DELETE", "PUT", "PATCH"):
            transport.request_json(
                method, f"/api/echo/{name}", json={} if method[0] == "P" else None
            )
    has_key = {r["method"]: "idempotency-key" in r["headers"] for r in seen(name)}
    assert has_key == {"GET": False, "DELETE": False, "PUT": True, "PATCH": True}


def test_api_requests_carry_the_key_user_agent_and_accept_headers(
    flaky_url: str, name: str, seen: Seen
):
    with Client(KEY, base_url=flaky_url + "/") as client:
        assert client.base_url == flaky_url
        client._transport.request_json("GET", f"/api/echo/{name}")
    headers = seen(name)[0]["headers"]
    assert headers["x-api-key"] == KEY
    assert headers["user-agent"] == "pictograph-selfhosted/0.1.0"
    assert headers["accept"] == "application/json"


def test_retries_give_up_after_max_retries_and_raise_the_last_error(
    flaky_url: str, name: str, seen: Seen
):
    with fast(flaky_url, max_retries=2) as transport, pytest.raises(ServerError) as caught:
        transport.request_json("POST", f"/api/flaky/{name}", params={"fail": 10}, json={})
    assert caught.value.status_code == 503
    assert caught.value.message == "try again later"
    assert len(seen(name)) == 3


def test_a_client_with_default_backoff_waits_about_a_second_before_its_first_retry(
    flaky_url: str, name: str
):
    with Client(KEY, base_url=flaky_url) as client:
        started = time.monotonic()
        client._transport.request_json("GET", f"/api/flaky/{name}")
        elapsed = time.monotonic() - started
    assert 0.7 <= elapsed < 3


def test_a_429_is_retried_after_waiting_at_least_its_retry_after(
    flaky_url: str, name: str, seen: Seen
):
    with fast(flaky_url) as transport:
        started = time.monotonic()
        body = transport.request_json("POST", f"/api/ratelimited/{name}", params={"retry_after": 1})
        elapsed = time.monotonic() - started
    assert body == {"data": {"attempt": 2}}
    assert elapsed >= 0.95
    assert len(seen(name)) == 2


def test_a_retry_after_over_two_minutes_raises_rate_limit_error_without_retrying(
    flaky_url: str, name: str, seen: Seen
):
    with fast(flaky_url) as transport, pytest.raises(RateLimitError) as caught:
        transport.request_json("GET", f"/api/ratelimited/{name}", params={"retry_after": 121})
    assert caught.value.retry_after == 121
    assert caught.value.code == "rate_limited"
    assert len(seen(name)) == 1


def test_a_redirect_is_never_followed_and_surfaces_as_api_error(
    flaky_url: str, name: str, seen: Seen
):
    with fast(flaky_url) as transport, pytest.raises(ApiError) as caught:
        transport.request_json("GET", f"/api/redirect/{name}")
    assert type(caught.value) is ApiError
    assert caught.value.status_code == 308
    assert [r["path"] for r in seen(name)] == [f"/api/redirect/{name}"]


def test_a_2xx_that_is_not_json_raises_server_error(flaky_url: str, name: str):
    with fast(flaky_url) as transport, pytest.raises(ServerError, match="non-JSON"):
        transport.request_json("GET", f"/api/not-json/{name}")


def test_a_204_answer_becomes_none(flaky_url: str, name: str):
    with fast(flaky_url) as transport:
        assert transport.request_json("DELETE", f"/api/empty/{name}") is None


def test_a_slow_answer_raises_request_timeout_error_after_retrying(
    flaky_url: str, name: str, seen: Seen
):
    transport = fast(flaky_url, timeout=0.3, max_retries=1)
    with transport, pytest.raises(RequestTimeoutError):
        transport.request_json("GET", f"/api/slow/{name}", params={"seconds": 2})
    assert len(seen(name)) == 2


def test_a_refused_connection_raises_network_error_that_is_not_a_timeout():
    transport = fast(f"http://127.0.0.1:{_free_port()}", max_retries=1)
    with transport, pytest.raises(NetworkError) as caught:
        transport.request_json("GET", "/api/anything")
    assert not isinstance(caught.value, RequestTimeoutError)


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, ValidationError),
        (401, AuthError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, ValidationError),
        (418, ApiError),
    ],
)
def test_error_envelopes_decode_to_the_class_the_status_names(
    flaky_url: str, name: str, status: int, error_class: type[ApiError]
):
    params = {"status": status, "code": "dataset_missing", "message": "no such dataset"}
    with fast(flaky_url) as transport, pytest.raises(ApiError) as caught:
        transport.request_json("GET", f"/api/error/{name}", params=params)
    assert type(caught.value) is error_class
    assert caught.value.message == "no such dataset"
    assert caught.value.code == "dataset_missing"
    assert caught.value.status_code == status
    assert caught.value.request_id == "req-123"


def test_a_validation_error_carries_the_field_errors_of_the_envelope(flaky_url: str, name: str):
    params = {"status": 422, "field": "1"}
    with fast(flaky_url) as transport, pytest.raises(ValidationError) as caught:
        transport.request_json("POST", f"/api/error/{name}", params=params, json={})
    assert caught.value.field_errors == [{"loc": ["body", "name"], "msg": "bad"}]


def test_an_absolute_url_on_another_host_is_pinned_to_the_configured_host(
    flaky_url: str, name: str, seen: Seen
):
    with fast(flaky_url) as transport:
        transport.request_json("GET", f"http://evil.example/api/echo/{name}?x=1")
    assert seen(name)[0]["query"] == "x=1"
    assert seen(name)[0]["headers"]["x-api-key"] == KEY


def big_file(tmp_path: Path, size: int = 5 * 1024 * 1024 + 7) -> Path:
    path = tmp_path / "big.png"
    path.write_bytes(bytes(i % 253 for i in range(size)))
    return path


def test_put_file_streams_the_whole_file_with_a_fixed_length_and_no_api_key(
    flaky_url: str, name: str, seen: Seen, tmp_path: Path
):
    path = big_file(tmp_path)
    with fast(flaky_url) as transport:
        assert transport.put_file(f"{flaky_url}/storage/upload/{name}", path, "image/png") == {
            "stored": True
        }
    [request] = seen(name)
    assert request["size"] == path.stat().st_size
    assert request["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert request["headers"]["content-length"] == str(path.stat().st_size)
    assert request["headers"]["content-type"] == "image/png"
    assert "transfer-encoding" not in request["headers"]
    assert "x-api-key" not in request["headers"]
    assert "idempotency-key" not in request["headers"]


def test_put_file_to_another_host_sends_no_api_key_either(
    flaky_url: str, name: str, seen: Seen, tmp_path: Path
):
    other_host = flaky_url.replace("127.0.0.1", "localhost")
    with fast(flaky_url) as transport:
        transport.put_file(
            f"{other_host}/storage/upload/{name}", big_file(tmp_path, 10), "image/png"
        )
    assert "x-api-key" not in seen(name)[0]["headers"]


def test_put_file_turns_a_422_from_storage_into_validation_error_with_its_message(
    flaky_url: str, name: str, tmp_path: Path
):
    url = f"{flaky_url}/storage/upload/{name}?status=422"
    with fast(flaky_url) as transport, pytest.raises(ValidationError) as caught:
        transport.put_file(url, big_file(tmp_path, 10), "image/png")
    assert caught.value.message == "the bytes are not a PNG image"


def test_put_file_accepts_only_200_and_201(flaky_url: str, name: str, tmp_path: Path):
    url = f"{flaky_url}/storage/upload/{name}?status=204"
    with fast(flaky_url) as transport, pytest.raises(ApiError, match="Upload failed: HTTP 204"):
        transport.put_file(url, big_file(tmp_path, 10), "image/png")


def test_put_file_retries_a_503_and_resends_the_whole_body(
    flaky_url: str, name: str, seen: Seen, tmp_path: Path
):
    path = big_file(tmp_path, 100_000)
    url = f"{flaky_url}/storage/upload/{name}?status=503"
    with fast(flaky_url, max_retries=1) as transport, pytest.raises(ServerError):
        transport.put_file(url, path, "image/png")
    assert [r["size"] for r in seen(name)] == [100_000, 100_000]


def test_download_streams_bytes_to_the_destination_and_leaves_no_part_file(
    flaky_url: str, name: str, tmp_path: Path
):
    dest = tmp_path / "nested" / "blob.bin"
    with fast(flaky_url) as transport:
        assert transport.download(f"/storage/blob/{name}?size=300000", dest) == dest
    assert dest.read_bytes() == bytes(i % 251 for i in range(300_000))
    assert sorted(p.name for p in dest.parent.iterdir()) == ["blob.bin"]


def test_a_failed_download_raises_the_mapped_error_and_writes_nothing(
    flaky_url: str, name: str, tmp_path: Path
):
    dest = tmp_path / "missing.bin"
    with fast(flaky_url) as transport, pytest.raises(NotFoundError):
        transport.download(f"/api/error/{name}?status=404", dest)
    assert list(tmp_path.iterdir()) == []


def test_thirty_two_threads_can_share_one_transport(flaky_url: str, name: str, seen: Seen):
    with fast(flaky_url) as transport, ThreadPoolExecutor(32) as pool:
        bodies = list(
            pool.map(lambda _: transport.request_json("POST", f"/api/echo/{name}"), range(64))
        )
    assert sorted(b["data"]["attempt"] for b in bodies) == list(range(1, 65))
    assert len({r["headers"]["idempotency-key"] for r in seen(name)}) == 64


def test_a_file_that_cannot_be_read_raises_its_own_error_over_a_socket_too(
    flaky_url: str, name: str, tmp_path: Path
):
    not_a_file = tmp_path / "folder.png"
    not_a_file.mkdir()
    with fast(flaky_url) as transport, pytest.raises(IsADirectoryError):
        transport.put_file(f"{flaky_url}/storage/upload/{name}", not_a_file, "image/png")


def test_a_429_storm_longer_than_the_retry_budget_is_waited_out_by_honouring_retry_after(
    flaky_url: str, name: str, seen: Seen
):
    # Eight 429s in a row: three retries used to give up; 429s now wait instead of counting.
    with fast(flaky_url, max_retries=3) as transport:
        body = transport.request_json(
            "POST", f"/api/ratelimited/{name}", params={"retry_after": 0, "fail": 8}, json={}
        )
    assert body == {"data": {"attempt": 9}}
    assert len(seen(name)) == 9


def test_a_409_for_a_twin_request_still_running_is_retried_after_its_retry_after(
    flaky_url: str, name: str, seen: Seen
):
    with fast(flaky_url) as transport:
        started = time.monotonic()
        body = transport.request_json(
            "POST",
            f"/api/flaky/{name}",
            params={"status": 409, "retry_after": 1, "fail": 1},
            json={},
        )
    assert body == {"data": {"attempt": 2}}
    assert time.monotonic() - started >= 0.95
    assert (
        seen(name)[0]["headers"]["idempotency-key"] == seen(name)[1]["headers"]["idempotency-key"]
    )


def test_a_409_without_retry_after_is_a_conflict_at_once(flaky_url: str, name: str, seen: Seen):
    with fast(flaky_url) as transport, pytest.raises(ConflictError):
        transport.request_json("POST", f"/api/error/{name}", params={"status": 409}, json={})
    assert len(seen(name)) == 1


def test_a_download_onto_a_folder_of_the_same_name_fails_and_leaves_no_part_file(
    flaky_url: str, name: str, tmp_path: Path
):
    # A dataset may hold a file "x.jpg" and a folder "x.jpg": locally only one can exist.
    (tmp_path / "x.jpg").mkdir()
    with fast(flaky_url) as transport, pytest.raises(IsADirectoryError):
        transport.download(f"/storage/blob/{name}?size=1000", tmp_path / "x.jpg")
    assert [p.name for p in tmp_path.iterdir()] == ["x.jpg"]
