"""Where a profiled contender spent its CPU: a py-spy raw profile (collapsed stacks) summarised.

Run: .venv/bin/python -m benchmarks.profile_summary PROFILE.txt [--top 25]
Prints the functions with the most samples on top of the stack (self), the most samples anywhere
in the stack (inclusive), and the share of samples by library (the file a leaf frame is in).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

#: Leaf files grouped by what they are, first match wins.
LIBRARIES = (
    ("quixstreams", "/quixstreams/"), ("confluent-kafka", "/confluent_kafka/"),
    ("cxstream streams/", "/streams/"), ("cxstream sinks/", "/sinks/"), ("cxstream schemas/", "/schemas/"),
    ("cxstream (other)", "/cxstream/"), ("faust", "/faust/"), ("mode", "/mode/"),
    ("aiokafka", "/aiokafka/"), ("kafka-python", "/kafka/"), ("rocksdict", "rocksdict"),
    ("fastavro", "fastavro"), ("clickhouse-driver", "clickhouse_driver"), ("structlog", "structlog"),
    ("json", "/json/"), ("asyncio", "/asyncio/"), ("python stdlib", "/lib/python3"),
)


def parse(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks.append((frames.split(";"), int(count)))
    return stacks


def _name(frame: str) -> str:
    match = _FRAME.match(frame)
    if not match:
        return frame
    file = match.group("file")
    return f"{match.group('func')} ({file})"


def _library(frame: str) -> str:
    match = _FRAME.match(frame)
    file = "/" + (match.group("file") if match else frame)  # py-spy shortens paths to the package
    for name, needle in LIBRARIES:
        if needle in file:
            return name
    return "other"


def focus(path: Path, needles: list[str]) -> str:
    """Inclusive share of the samples whose stack has a frame containing each needle."""
    stacks = parse(path)
    total = sum(count for _, count in stacks) or 1
    lines = ["inclusive samples of chosen frames:"]
    for needle in needles:
        hit = sum(count for frames, count in stacks if any(needle in f for f in frames))
        lines.append(f"  {100 * hit / total:5.1f}%  {needle}")
    return "\n".join(lines)


def summarise(path: Path, top: int) -> str:
    stacks = parse(path)
    total = sum(count for _, count in stacks)
    if not total:
        return f"{path}: no samples"
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    for frames, count in stacks:
        own[_name(frames[-1])] += count
        libraries[_library(frames[-1])] += count
        for name in {_name(f) for f in frames}:
            inclusive[name] += count
    lines = [f"{path.name}: {total:,} samples", "", "self (leaf) samples:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines += ["", "inclusive samples:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    lines += ["", "self samples by library:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in libraries.most_common()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profiles", type=Path, nargs="+")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--focus", action="append", default=[],
                        help="also print the inclusive share of frames containing this text (repeatable)")
    args = parser.parse_args()
    for path in args.profiles:
        print(summarise(path, args.top))
        if args.focus:
            print(focus(path, args.focus))
        print()


if __name__ == "__main__":
    main()
