"""The --server list: addresses parsed as written, and the round robin that picks the next."""

from __future__ import annotations

from pathlib import Path

import pytest

from interzap_client.cli import build_parser, new_session
from interzap_client.servers import Address, AddressError, Rotation, parse_servers


def test_addresses_with_and_without_ports_ipv6_and_comma_lists() -> None:
    found = parse_servers(["a.lan:7001,b.lan", " [::1]:7003 ", "10.0.0.4:7004", "a.lan:7001"],
                          7000)
    assert found == [Address("a.lan", 7001), Address("b.lan", 7000), Address("::1", 7003),
                     Address("10.0.0.4", 7004)]
    assert [str(a) for a in found[2:]] == ["[::1]:7003", "10.0.0.4:7004"]


@pytest.mark.parametrize("bad", ["a:b", ":7000", "a:70000", "[::1", "[::1]x", ","])
def test_what_is_not_an_address_is_refused(bad: str) -> None:
    with pytest.raises(AddressError):
        parse_servers([bad], 7000)


def test_round_robin_backs_off_only_once_every_server_failed_in_a_row() -> None:
    turn = Rotation([Address("a", 1), Address("b", 2), Address("c", 3)])
    assert turn.current.host == "a"
    assert [turn.failed(), turn.failed()] == [False, False]
    assert turn.current.host == "c"
    assert turn.failed() is True  # a, b and c all failed: back off, then a again
    assert turn.current.host == "a"
    turn.failed()
    turn.fresh()  # b held a link for a while: its failure starts a new round
    assert [turn.failed(), turn.failed(), turn.failed()] == [False, False, True]


def test_one_server_backs_off_after_each_failure_as_before() -> None:
    turn = Rotation([Address("a", 1)])
    assert turn.failed() is True and turn.current.host == "a"


def test_the_command_line_gives_the_session_its_list(tmp_path: Path) -> None:
    args = build_parser().parse_args(["--server", "127.0.0.1:7001,127.0.0.1",
                                      "--server", "127.0.0.2:7003", "--port", "7002"])
    session = new_session(args, tmp_path)
    assert session.server == "127.0.0.1:7001"
    assert [str(a) for a in session.net.servers.servers] == [
        "127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.2:7003"]
    plain = new_session(build_parser().parse_args(["--host", "h", "--port", "9"]), tmp_path)
    assert plain.server == "h:9"


def test_a_bad_server_is_refused_by_the_parser() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--server", "host:port"])
