"""FloodBans on its own: how long an address stays refused, and that memory stays bounded."""

from interzap_server.limits import FloodBans


def test_ban_lasts_its_seconds_and_is_renewed() -> None:
    bans = FloodBans(10.0)
    bans.ban("10.0.0.1", now=100.0)
    assert bans.remaining("10.0.0.1", 104.0) == 6.0
    assert bans.remaining("10.0.0.2", 104.0) == 0.0
    assert bans.remaining("10.0.0.1", 110.0) == 0.0
    bans.ban("10.0.0.1", now=108.0)  # cut again: the ban starts afresh
    assert bans.remaining("10.0.0.1", 110.0) == 8.0


def test_zero_seconds_bans_nobody() -> None:
    bans = FloodBans(0.0)
    bans.ban("10.0.0.1", now=100.0)
    assert bans.remaining("10.0.0.1", 100.0) == 0.0


def test_prune_forgets_ended_bans_and_capacity_forgets_the_oldest() -> None:
    bans = FloodBans(10.0, capacity=2)
    bans.ban("a", now=0.0)
    bans.ban("b", now=5.0)
    bans.ban("c", now=6.0)  # over capacity: "a", the oldest, goes early
    assert len(bans) == 2
    assert bans.remaining("a", 7.0) == 0.0
    assert bans.remaining("b", 7.0) == 8.0
    bans.prune(15.5)  # "b" ended at 15
    assert len(bans) == 1
    assert bans.remaining("c", 15.5) == 0.5
