"""commands: typed lines to actions, and tab completion."""

import pytest

from interzap_client import commands as cmd
from interzap_client import intents
from shared.codes import MAX_GROUP_MEMBERS, MAX_NAME


@pytest.mark.parametrize(
    ("line", "action"),
    [
        pytest.param("hello there", intents.Say("hello there"), id="plain"),
        pytest.param("/send bob hi  there", intents.Send("bob", "hi  there"), id="send"),
        pytest.param("/add Client-000002 bob", intents.Add("Client-000002", "bob"), id="add"),
        pytest.param("/add Client-000002", intents.Add("Client-000002", None), id="add-bare"),
        pytest.param("/open bob", intents.Open("bob"), id="open"),
        pytest.param("/group bob carol", intents.Group(("bob", "carol")), id="group"),
        pytest.param("/group book club: bob carol", intents.Group(("bob", "carol"), "book club"),
                     id="group-named"),
        pytest.param("/group team:bob", intents.Group(("bob",), "team"), id="group-named-tight"),
        pytest.param("/name  Alice Liddell ", intents.SetName("Alice Liddell"), id="name"),
        pytest.param("/whois Alice L", intents.Whois("Alice L"), id="whois"),
        pytest.param("/rename book club", intents.ChangeGroup("N", "book club"), id="rename"),
        pytest.param("/invite dave", intents.ChangeGroup("A", "dave"), id="invite"),
        pytest.param("/remove dave", intents.ChangeGroup("R", "dave"), id="remove"),
        pytest.param("/promote bob", intents.ChangeGroup("P", "bob"), id="promote"),
        pytest.param("/demote bob", intents.ChangeGroup("D", "bob"), id="demote"),
        pytest.param("/leave", intents.ChangeGroup("L", None), id="leave-open"),
        pytest.param("/leave team", intents.ChangeGroup("L", None, "team"), id="leave-named"),
        pytest.param("/members", intents.Members(None), id="members"),
        pytest.param("/contacts", intents.Contacts(), id="contacts"),
        pytest.param("/export out.json", intents.Export("out.json"), id="export"),
        pytest.param("/login Client-000001", intents.Login("Client-000001", None), id="login"),
        pytest.param("/login Client-000001 " + "a" * 32,
                     intents.Login("Client-000001", "a" * 32), id="login-token"),
        pytest.param("/read", intents.ReadUp(None), id="read-open"),
        pytest.param("/read bob", intents.ReadUp("bob"), id="read"),
        pytest.param("/wait read bob", intents.WaitTick("read", "bob"), id="wait-read"),
        pytest.param("/wait accepted", intents.WaitTick("accepted", None), id="wait-open"),
        pytest.param("/wait received 3", intents.WaitReceived(3), id="wait-received"),
        pytest.param("/register", intents.Register(), id="register"),
        pytest.param("/quit", intents.Quit(), id="quit"),
        pytest.param("/block bob", intents.Block("bob", on=True), id="block"),
        pytest.param("/unblock Client-000002", intents.Block("Client-000002", on=False),
                     id="unblock"),
        pytest.param("/blocked", intents.Blocked(), id="blocked"),
        pytest.param("   ", None, id="blank"),
    ],
)
def test_commands_parse(line: str, action: intents.Action | None) -> None:
    """Each command line becomes its action."""
    assert cmd.parse(line) == action


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("/nope", id="unknown"),
        pytest.param("/send bob", id="send-no-text"),
        pytest.param("/group", id="group-empty"),
        pytest.param("/group a b c d e f g h i", id="group-nine"),
        pytest.param("/add Client-000002 Group-0000001", id="alias-like-id"),
        pytest.param("/add Client-000002 /x", id="alias-slash"),
        pytest.param("/wait received many", id="wait-not-number"),
        pytest.param("/wait forever", id="wait-bad"),
        pytest.param("/contacts now", id="extra-word"),
        pytest.param("/block", id="block-no-one"),
        pytest.param("/unblock bob carol", id="unblock-two"),
        pytest.param("/blocked bob", id="blocked-extra-word"),
        pytest.param("/group club:", id="group-named-nobody"),
        pytest.param("/group club: a b c d e f g h i", id="group-named-nine"),
        pytest.param("/name", id="name-empty"),
        pytest.param("/invite", id="invite-no-one"),
        pytest.param("/remove bob carol", id="remove-two"),
        pytest.param("/leave a b", id="leave-two"),
    ],
)
def test_commands_refuse_bad_lines(line: str) -> None:
    """A malformed command is a CommandError that says how to write it."""
    with pytest.raises(cmd.CommandError):
        cmd.parse(line)


def test_commands_complete_commands_and_names() -> None:
    """The first word completes to commands, later ones to ids and aliases."""
    assert cmd.complete("/gr", []) == ["/group "]
    assert set(cmd.complete("/wa", [])) == {"/wait "}
    assert cmd.complete("/open b", ["bob", "bea", "carl"]) == ["bob", "bea"]
    assert cmd.complete("/group bob c", ["bob", "carl"]) == ["carl "]
    assert cmd.complete("/wait r", []) == ["read ", "received "]
    assert cmd.complete("/send bob hel", ["hello"]) == []
    assert cmd.complete("plain text", ["bob"]) == []


@pytest.mark.parametrize(
    ("line", "completions"),
    [
        pytest.param("/op", ["/open "], id="command-with-arguments"),
        pytest.param("/he", ["/help"], id="command-without"),
        pytest.param("/help", [], id="command-complete-already"),
        pytest.param("/read", ["/read "], id="command-optional-argument"),
        pytest.param("/send b", ["bob "], id="name-then-text"),
        pytest.param("/add b", ["bob "], id="name-then-alias"),
        pytest.param("/open b", ["bob"], id="last-argument"),
        pytest.param("/open bob", [], id="last-argument-complete-already"),
        pytest.param("/send bob", ["bob "], id="name-typed-whole"),
        pytest.param("/group " + "a " * (MAX_GROUP_MEMBERS + MAX_NAME - 1) + "b", ["bob"],
                     id="last-group-word"),
        pytest.param("/wait read b", ["bob"], id="wait-peer"),
    ],
)
def test_commands_complete_ends_with_a_blank_if_more_follows(line: str,
                                                             completions: list[str]) -> None:
    """A completion ends with a blank when the command takes another argument after it."""
    assert cmd.complete(line, ["bob"]) == completions


def test_commands_help_comes_from_the_table() -> None:
    """/help has one line per command, in the table's order, with its usage and its help."""
    lines = cmd.help_lines()
    assert [line.split()[0] for line in lines] == list(cmd.COMMANDS)
    for line, command in zip(lines, cmd.COMMANDS.values(), strict=True):
        assert line.startswith(f"{command.name} {command.usage}".strip())
        assert line.endswith(command.help)
