"""Compare two replay outputs: how many answers were compared and how many are byte-for-byte equal.

    .venv/bin/python bench/contracts/compare.py /tmp/answers-before.jsonl /tmp/answers-after.jsonl
"""

from __future__ import annotations

import json
import sys
from collections import Counter


def main(before_path: str, after_path: str) -> int:
    with open(before_path, encoding="utf-8") as f:
        before = [json.loads(line) for line in f]
    with open(after_path, encoding="utf-8") as f:
        after = [json.loads(line) for line in f]
    compared, equal, differ = Counter(), Counter(), []
    for old, new in zip(before, after, strict=True):
        compared[old["calculator"]] += 1
        if (old["status"], old["content"]) == (new["status"], new["content"]):
            equal[old["calculator"]] += 1
        else:
            differ.append((old, new))
    for calculator in compared:
        print(f"{calculator}: {equal[calculator]}/{compared[calculator]} equal")
    print(f"total: {sum(equal.values())}/{sum(compared.values())} equal")
    for old, new in differ[:20]:
        print(f"- #{old['index']} {old['calculator']}: {old['status']} {old['content'][:300]}")
        print(f"+ #{new['index']} {new['calculator']}: {new['status']} {new['content'][:300]}")
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
