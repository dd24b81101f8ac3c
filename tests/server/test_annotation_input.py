"""Bad shapes are refused whole, with a message that says what is wrong: outside the image,
zero area, an unknown class, too many points, numbers that are not numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.server.flows import P
from tests.server.labelling import box, labelled_dataset, polygon

URL = f"{P}/annotations/roads/sub/a.png"  # a 100x80 image


def refusal(client: Any, annotations: list[dict[str, Any]]) -> tuple[int, str]:
    answer = client.post(URL, json={"annotations": annotations})
    return answer.status_code, answer.json()["error"]["message"]


def test_a_refused_shape_saves_nothing_and_says_why(app_client: Any, tmp_path: Path) -> None:
    labelled_dataset(app_client, tmp_path)
    before = app_client.get(URL).json()
    good = box("thing", 1, 1, 10, 10)
    assert refusal(app_client, [good, box("thing", 90, 10, 20, 10)]) == (
        422,
        "annotation 1: the bbox reaches outside the 100x80 image (point 110,20)",
    )
    assert refusal(app_client, [polygon("thing", [(0, 0), (50, 0), (50, -30)])])[1].endswith(
        "(point 50,-30)"
    )
    assert "w > 0 and h > 0" in refusal(app_client, [box("thing", 5, 5, 0, 10)])[1]
    assert refusal(app_client, [box("<b>x</b>", 5, 5, 5, 5)]) == (
        400,
        "Class '<b>x</b>' not in project",
    )
    huge = polygon("thing", [(i % 100, (i // 100) % 80) for i in range(100_000)])
    status, message = refusal(app_client, [good, huge])
    assert status == 422 and "at most 10000 points per shape" in message
    nan = {"name": "thing", "type": "keypoint", "keypoint": {"x": "nan", "y": 1}}
    assert "finite" in refusal(app_client, [nan])[1]
    assert app_client.get(URL).json() == before  # nothing of the good first shape either
    edge = box("thing", 0, 0, 100.4, 80)  # float rounding at the edge is tolerated
    assert app_client.post(URL, json={"annotations": [edge]}).status_code == 200
