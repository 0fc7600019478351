"""`make soak`: byte-level fuzzing of shared.codec.decode and shared.framebuffer at full size.

Three runs, each a row of the soak table:
- a plain random loop over a million lines, mostly valid frames with mutations
  (tests/hostile/mutations.py), decoded as the client and as the server would:
  only RemoteProtocolError may escape, and what decodes must encode back to
  the same bytes;
- the same loop over a million reads fed to FrameBuffer, at the real limit and
  at small ones: no frame over the limit, bounded memory, each over-long line
  reported once, exactly the naive framing;
- atheris (coverage-guided, libFuzzer) on both, if it is installed
  (`.venv/bin/pip install atheris`), in child processes: `python -m soak.fuzz
  atheris decode|stream RUNS FOLDER`.

Refuses to know the server: tests/hostile/test_fuzz.py has the same checks at
small sizes for `make test`.
"""

from __future__ import annotations

import importlib.util
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from hostile.mutations import (  # noqa: E402  (tests/ must be on the path first)
    SEEDS,
    check_decode,
    check_stream,
    random_chunks,
    random_line,
)

from shared.codec import Side  # noqa: E402
from shared.codes import MAX_FRAME  # noqa: E402
from soak import Row  # noqa: E402

LINES = 1_000_000
"""Lines decoded by the plain loop (half as client frames, half as server frames)."""
READS = 1_000_000
"""Reads fed to frame buffers by the plain loop."""
ATHERIS_RUNS = {"decode": 1_000_000, "stream": 1_000_000}
SEED = 20261125
MAX_SHOWN = 3
"""Failing inputs kept for the table (the first few; the count is the figure)."""


def _escaped(failures: list[str], line: bytes, exc: BaseException) -> None:
    if len(failures) < MAX_SHOWN:
        failures.append(f"{line[:60]!r}: {type(exc).__name__}: {str(exc)[:120]}")


def decode_loop(count: int = LINES, seed: int = SEED) -> Row:
    rng = random.Random(seed)
    sides = (Side.CLIENT, Side.SERVER)
    decoded = escaped = 0
    failures: list[str] = []
    started = time.monotonic()
    for i in range(count):
        line = random_line(rng)
        try:
            if check_decode(line, sides[i & 1]) is not None:
                decoded += 1
        except Exception as exc:  # anything but a refusal is a bug
            escaped += 1
            _escaped(failures, line, exc)
    seconds = time.monotonic() - started
    figure = (f"{count:,} lines, {escaped} escaped, {decoded:,} decoded and re-encoded "
              f"identically, {count - decoded - escaped:,} refused; {seconds:.0f} s")
    if failures:
        figure += "; e.g. " + " | ".join(failures)
    return Row("fuzz", "decode: mutated valid frames + random bytes, both sides", figure,
               escaped == 0)


def stream_loop(reads: int = READS, seed: int = SEED) -> Row:
    rng = random.Random(seed)
    fed = streams = too_long = broken = 0
    failures: list[str] = []
    started = time.monotonic()
    while fed < reads:
        limit = MAX_FRAME if streams % 2 else rng.randint(1, 64)
        chunks = random_chunks(rng, limit)
        streams += 1
        fed += len(chunks)
        try:
            too_long += check_stream(chunks, limit).count("too long")
        except Exception as exc:
            broken += 1
            _escaped(failures, b"".join(chunks), exc)
    seconds = time.monotonic() - started
    figure = (f"{fed:,} reads in {streams:,} streams (limit 1024 or 1-64), {broken} broken; "
              f"{too_long:,} over-long lines, each reported once; {seconds:.0f} s")
    if failures:
        figure += "; e.g. " + " | ".join(failures)
    return Row("fuzz", "FrameBuffer: random reads of mutated frames and long runs", figure,
               broken == 0)


# -- atheris ------------------------------------------------------------------------


def atheris_rows() -> list[Row]:
    if importlib.util.find_spec("atheris") is None:
        return [Row("fuzz", "atheris (coverage-guided)",
                    "not installed: `.venv/bin/pip install atheris` to add this run", True)]
    return [_atheris(target, runs) for target, runs in ATHERIS_RUNS.items()]


def _atheris(target: str, runs: int) -> Row:
    what = {"decode": "decode", "stream": "FrameBuffer"}[target]
    with tempfile.TemporaryDirectory(prefix="interzap-atheris-") as folder:
        corpus = Path(folder) / "corpus"
        corpus.mkdir()
        for index, seed in enumerate(SEEDS):
            (corpus / f"seed-{index}").write_bytes(seed + b"\n")
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, target, str(runs), folder],
            cwd=ROOT, capture_output=True, text=True, timeout=1800)
        seconds = time.monotonic() - started
        log = done.stderr
        ran = re.search(r"Done (\d+) runs", log)
        cover = re.findall(r"cov: (\d+)", log)
        crash = re.search(r"Uncaught Python exception: ===\s*\n(.*?)\n", log, re.S)
        ok = done.returncode == 0 and ran is not None
        figure = (f"{int(ran[1]):,} runs" if ran else "no run count") + \
            f", exit {done.returncode}, coverage {cover[-1] if cover else '?'}; {seconds:.0f} s"
        if crash:
            figure += f"; {crash[1][:160]}"
        elif not ok:
            figure += f"; {log.strip().splitlines()[-1][:160] if log.strip() else 'no output'}"
    return Row("fuzz", f"atheris on {what} (libFuzzer, seeded with valid frames)", figure, ok)


_CHILD = """
import sys
import atheris
with atheris.instrument_imports(include=["shared"]):  # coverage of the code under test only
    import shared.codec, shared.framebuffer, shared.ids
from soak.fuzz import atheris_child
atheris_child(sys.argv[1], int(sys.argv[2]), sys.argv[3])
"""
"""The child process: shared is imported (and instrumented) before anything else."""


def atheris_child(target: str, runs: int, folder: str) -> None:
    """Runs in its own process: libFuzzer exits the process when it is done."""
    import atheris

    sides = (Side.CLIENT, Side.SERVER)

    def decode_one(data: bytes) -> None:
        if data:
            check_decode(data[1:], sides[data[0] & 1])

    def stream_one(data: bytes) -> None:
        provider = atheris.FuzzedDataProvider(data)
        small = provider.ConsumeIntInRange(0, 64)
        limit = small or MAX_FRAME
        chunks = []
        while provider.remaining_bytes():
            chunks.append(provider.ConsumeBytes(provider.ConsumeIntInRange(1, 300)))
        check_stream(chunks, limit)

    one = {"decode": decode_one, "stream": stream_one}[target]
    atheris.Setup([sys.argv[0], f"-runs={runs}", "-max_len=2200", "-print_final_stats=1",
                   f"-artifact_prefix={folder}/", f"{folder}/corpus"], one)
    atheris.Fuzz()


def run() -> list[Row]:
    return [decode_loop(), stream_loop(), *atheris_rows()]


if __name__ == "__main__":
    for row in run():
        print(row)
