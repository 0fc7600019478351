"""The configuration file (`--config FILE`, config.py): TOML keys are option names, the
command line wins, and what cannot be used is a usage error (exit 2) naming the file and
the key. Parsed in process, plus one real server started from a file.
"""

import subprocess
import sys
from ipaddress import ip_network
from pathlib import Path

import pytest
from wire import ROOT, ClientFactory, ServerFactory

from interzap_server.cli import parse_args
from shared.codes import ErrorCode


def config_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "interzap.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_config_file_sets_options(tmp_path: Path) -> None:
    """Each key sets its option, written with dashes or underscores."""
    path = config_file(tmp_path, 'max-per-address = 5\nregister_per_hour = 2\n'
                                 'trusted = "10.0.0.0/8"\nlog-level = "warning"\n'
                                 'db = "/srv/chat.db"\nnode = "a"\nreuse-port = true\n')
    settings = parse_args(["--config", path])
    assert settings.node == "a"
    assert settings.reuse_port
    assert settings.max_per_address == 5
    assert settings.register_per_hour == 2.0
    assert settings.trusted == (ip_network("10.0.0.0/8"),)
    assert settings.log_level == "warning"
    assert settings.db == "/srv/chat.db"


@pytest.mark.parametrize("argv", [
    pytest.param(["--config", "{}", "--max-per-address", "7"], id="option-after"),
    pytest.param(["--max-per-address", "7", "--config", "{}"], id="option-before"),
])
def test_config_command_line_wins(tmp_path: Path, argv: list[str]) -> None:
    """An option given on the command line overrides the file, wherever it stands."""
    path = config_file(tmp_path, "max-per-address = 5\nport = 9100\n")
    settings = parse_args([arg.format(path) for arg in argv])
    assert settings.max_per_address == 7
    assert settings.port == 9100


@pytest.mark.parametrize(("text", "message"), [
    pytest.param("max-per-adress = 5\n", "unknown key 'max-per-adress' "
                 "(did you mean 'max-per-address'?)", id="unknown-key"),
    pytest.param("config = 'other.toml'\n", "unknown key 'config'", id="no-nesting"),
    pytest.param('port = "9070"\n', "port must be an integer, not a string ('9070')",
                 id="string-for-integer"),
    pytest.param("max-queue = 1.5\n", "max-queue must be an integer, not a float (1.5)",
                 id="float-for-integer"),
    pytest.param("rate-limit = true\n", "rate-limit must be a number, not a boolean (True)",
                 id="boolean-for-number"),
    pytest.param("host = 0\n", "host must be a string, not an integer (0)",
                 id="integer-for-string"),
    pytest.param("reuse-port = 1\n", "reuse-port must be a boolean, not an integer (1)",
                 id="integer-for-switch"),
    pytest.param('trusted = ["10.0.0.0/8"]\n', "trusted must be a string, not an array",
                 id="array"),
    pytest.param('trusted = "localhost"\n', "trusted: 'localhost' does not appear to be",
                 id="bad-network"),
    pytest.param('sync = "sometimes"\n', "sync must be one of full, normal, not 'sometimes'",
                 id="not-a-choice"),
    pytest.param("port = \n", "not valid TOML", id="not-toml"),
])
def test_config_refuses_what_it_cannot_use(tmp_path: Path, text: str, message: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown key, a value of the wrong type or not TOML: exit 2, naming file and key."""
    path = config_file(tmp_path, text)
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--config", path])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"error: {path}: " in err and message in err, err


def test_config_missing_file_is_a_usage_error(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(["--config", str(tmp_path / "absent.toml")])
    assert exit_.value.code == 2
    assert "cannot read the configuration file" in capsys.readouterr().err


def test_config_error_stops_the_server_with_status_2(tmp_path: Path) -> None:
    """The real entry point: a bad file is reported on stderr, exit 2, nothing served."""
    path = config_file(tmp_path, "prot = 9070\n")
    run = subprocess.run([sys.executable, "-m", "interzap_server", "--config", path],
                         cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert run.returncode == 2
    assert f"{path}: unknown key 'prot' (did you mean 'port'?)" in run.stderr
    assert run.stdout == ""


@pytest.mark.sqlite_only("a start-up option; the store plays no part")
def test_config_file_reaches_the_running_server(tmp_path: Path,
                                                server_factory: ServerFactory,
                                                client_factory: ClientFactory) -> None:
    """A server started with a file obeys it: one connection per address, none trusted."""
    path = config_file(tmp_path, 'max-per-address = 1\ntrusted = ""\n')
    server = server_factory.start(extra_args=["--config", path])
    client_factory.connect(server)
    crowded = client_factory.connect(server, greet=False)
    crowded.expect_error(ErrorCode.TOO_MANY_CONNECTIONS)
