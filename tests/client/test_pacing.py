"""Pacing: the client learns a server's flood limit (AIMD) and keeps the order (13/10)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clientkit import ChatServer, register, run_script

from interzap_client.pacing import CLEAN_STRETCH, SAFETY, START_RATE, Pacer, stated_limit

COUNT = 200


def test_pacing_stated_limit_read_from_the_reason() -> None:
    """The server's 13/10 reason names its limit; other words name none."""
    assert stated_limit("more than 20 frames a second; this one was dropped") == 20
    assert stated_limit("slow down: (more than 2.5 frames a second)") == 2.5
    assert stated_limit("slow down") is None


def test_pacing_halves_then_creeps_up_to_the_ceiling() -> None:
    """13/10 halves the rate (at most SAFETY of the stated limit), one frame at a time;
    each clean stretch adds a frame a second, never above the ceiling."""
    pacer = Pacer()
    assert [pacer.wait(0.0) for _ in range(int(pacer.burst))] == [0.0] * int(pacer.burst)
    assert pacer.wait(0.0) == pytest.approx(1 / START_RATE)
    pacer.refused(1.0, 40.0)
    assert (pacer.rate, pacer.burst, pacer.ceiling) == (START_RATE / 2, 1.0, SAFETY * 40)
    assert pacer.wait(1.0) == pytest.approx(1 / pacer.rate)  # the bucket is empty
    pacer.wait(1.0 + CLEAN_STRETCH)
    assert pacer.rate == START_RATE / 2 + 1
    for second in range(100):
        pacer.wait(1.0 + CLEAN_STRETCH * (second + 2))
    assert pacer.rate == SAFETY * 40
    pacer.refused(500.0, None)  # no limit stated: the refused rate caps the next climb
    assert (pacer.rate, pacer.ceiling) == pytest.approx((SAFETY * 40 / 2, SAFETY * SAFETY * 40))


def test_pacing_low_server_limit_keeps_order(slow_server: ChatServer, tmp_path: Path) -> None:
    """Under --rate-limit 20 --rate-burst 40, 200 quick sends arrive all, once and in
    order, and the sender says it slows down in one line, not one per refusal."""
    data = tmp_path / "data"
    alice, bob = register(slow_server.port, data), register(slow_server.port, data)
    script = "".join(f"/send {bob} n{i}\n" for i in range(COUNT)) + f"/wait accepted {bob}\n"
    status, events, _ = run_script(slow_server.port, data, script, "--account", alice,
                                   "--timeout", "25", timeout=40)
    warnings = [e for e in events if e["event"] == "warning"]
    assert status == 0, [e for e in events if e["event"] == "error"][:3]
    assert 1 <= len(warnings) <= 2, warnings
    assert "20 frames a second" in warnings[0]["text"]
    assert [e for e in events if e["event"] == "disconnected"] == []
    status, events, _ = run_script(slow_server.port, data, f"/wait received {COUNT}\n",
                                   "--account", bob)
    assert status == 0
    assert [e["text"] for e in events if e["event"] == "message"] == [
        f"n{i}" for i in range(COUNT)]
