"""Prints the notifications two servers sent for the same flow side by side,
key by key: the first message of each event type from each listener file
(JSON lines written by listener.py).

usage: compare.py LEFT_NAME LEFT.jsonl RIGHT_NAME RIGHT.jsonl
"""

import json
import sys


def first_by_type(path):
    seen = {}
    order = []
    with open(path) as f:
        for line in f:
            m = json.loads(line)
            event = m["event_type"]
            if event not in seen:
                seen[event] = m
            order.append(event)
    return seen, order


def flat(m):
    out = {"(priority)": m["priority"], "(publisher_id)": m["publisher_id"],
           "(metadata keys)": sorted(m["metadata"]),
           "(timestamp)": m["metadata"]["timestamp"]}
    payload = m["payload"]
    if isinstance(payload, dict):
        for k, v in payload.items():
            out[k] = v
    else:
        out["(payload)"] = payload
    return out


def show(v):
    s = json.dumps(v, sort_keys=True)
    return s if len(s) <= 44 else s[:41] + "..."


def main():
    lname, lpath, rname, rpath = sys.argv[1:5]
    left, lorder = first_by_type(lpath)
    right, rorder = first_by_type(rpath)
    print(f"event order ({lname}): {' '.join(lorder)}")
    print(f"event order ({rname}): {' '.join(rorder)}")
    for event in sorted(set(left) | set(right)):
        print(f"\n== {event}")
        if event not in left or event not in right:
            print(f"   only from {lname if event in left else rname}")
            continue
        a, b = flat(left[event]), flat(right[event])
        for key in sorted(set(a) | set(b)):
            mark = " " if (key in a) == (key in b) else "!"
            va = show(a[key]) if key in a else "(missing)"
            vb = show(b[key]) if key in b else "(missing)"
            print(f" {mark} {key:32} {va:46} {vb}")


if __name__ == "__main__":
    main()
