"""The upload batch's body reader against httpx's multipart encoder: what one writes, the other
reads back part for part, whatever the bytes."""

from __future__ import annotations

import httpx
from hypothesis import given
from hypothesis import strategies as st

from pictograph.server.api.batch_body import boundary_of, split_parts

tokens = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=40)
files = st.lists(st.tuples(tokens, st.binary(max_size=2000)), min_size=1, max_size=20)


@given(files)
def test_every_part_httpx_encodes_is_read_back_in_order_with_its_exact_bytes(
    parts: list[tuple[str, bytes]],
) -> None:
    request = httpx.Request(
        "POST",
        "http://x/storage/upload-batch",
        files=[(name, ("f.jpg", data, "image/jpeg")) for name, data in parts],
    )
    body = request.read()

    read = split_parts(body, boundary_of(request.headers["content-type"]))

    assert [(part.name, part.data, part.is_file) for part in read] == [
        (name, data, True) for name, data in parts
    ]
