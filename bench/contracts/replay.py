"""Replay recorded calculator bodies through the HTTP endpoints and write every answer.

    CALC_BODIES=/tmp/bodies.jsonl CALC_ANSWERS=/tmp/answers-before.jsonl \
        .venv/bin/pytest -q -p no:randomly -p triggerpoint.conftest bench/contracts/replay.py

Each output line is {"calculator", "index", "status", "content"} with the response bytes
as text; `bench/contracts/compare.py before after` counts the answers that are byte-for-byte
equal. Besides the recorded bodies it sends a fixed set of hostile bodies to each endpoint
(not an object, invalid JSON, a NUL byte, JSON nested 2,000 deep).
"""

from __future__ import annotations

import json
import os

import pytest

ENDPOINTS = {
    "screening": "/api/v1/screening/evaluate",
    "triage": "/api/v1/followup/triage",
    "aftercare": "/api/v1/aftercare/plan",
    "exam": "/api/v1/assessments/exam/classify",
    "fibromyalgia": "/api/v1/assessments/fibromyalgia/score",
}
HOSTILE = ("[]", "null", "5", '"text"', "{", '{"a": "\\u0000"}', "[" * 2000 + "]" * 2000, "{}")


def _bodies():
    seen = set()
    with open(os.environ["CALC_BODIES"], encoding="utf-8") as lines:
        for line in lines:
            if line in seen:
                continue
            seen.add(line)
            record = json.loads(line)
            yield record["calculator"], json.dumps(record["body"])
    for calculator in ENDPOINTS:
        for raw in HOSTILE:
            yield calculator, raw


@pytest.mark.django_db
def test_replay(client, bearer, physician):
    headers = bearer(physician)
    with open(os.environ["CALC_ANSWERS"], "w", encoding="utf-8") as out:
        for index, (calculator, raw) in enumerate(_bodies()):
            response = client.post(ENDPOINTS[calculator], data=raw, content_type="application/json", **headers)
            out.write(json.dumps({"calculator": calculator, "index": index, "status": response.status_code,
                                  "content": response.content.decode("utf-8")}, ensure_ascii=False) + "\n")
