"""profile: where accounts live, and that ids are checked before they name files."""

import stat
from pathlib import Path

import pytest

from interzap_client import profile

TOKEN = "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "ident",
    [
        pytest.param("../Client-000001", id="parent"),
        pytest.param("Client-000001/../../etc", id="traversal"),
        pytest.param("/etc/passwd", id="absolute"),
        pytest.param("Client-00000a", id="letter"),
        pytest.param("Client-000001\n", id="newline"),
        pytest.param("Group-0000001", id="group"),
    ],
)
def test_profile_id_with_path_characters_refused(tmp_path: Path, ident: str) -> None:
    """Anything but a user id is refused before it becomes part of a path."""
    with pytest.raises(profile.ProfileError):
        profile.account_dir(tmp_path, ident)
    with pytest.raises(profile.ProfileError):
        profile.load_token(tmp_path, ident)
    assert list(tmp_path.iterdir()) == []


def test_profile_token_file_is_private(tmp_path: Path) -> None:
    """Stored credentials can be read by their owner only (mode 0600)."""
    path = profile.save_account(tmp_path, "Client-000007", TOKEN)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert profile.load_token(tmp_path, "Client-000007") == TOKEN


def test_profile_lists_accounts_and_chooses_the_only_one(tmp_path: Path) -> None:
    """Several accounts share a data dir; one alone is chosen without asking."""
    (tmp_path / "junk").mkdir()
    profile.save_account(tmp_path, "Client-000002", TOKEN)
    assert profile.choose_account(tmp_path, None) == "Client-000002"
    profile.save_account(tmp_path, "Client-000001", TOKEN)
    assert profile.list_accounts(tmp_path) == ["Client-000001", "Client-000002"]
    assert profile.choose_account(tmp_path, None) is None
    assert profile.choose_account(tmp_path, "Client-000001") == "Client-000001"


def test_profile_data_dir_from_environment(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    """--data-dir wins, then $INTERZAP_HOME, then ~/.local/share/interzap."""
    monkeypatch.setenv("INTERZAP_HOME", str(tmp_path / "env"))
    assert profile.data_dir(None) == tmp_path / "env"
    assert profile.data_dir(str(tmp_path / "arg")) == tmp_path / "arg"
    monkeypatch.delenv("INTERZAP_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert profile.data_dir(None) == tmp_path / ".local" / "share" / "interzap"


def test_profile_missing_token_is_a_clear_error(tmp_path: Path) -> None:
    """Logging in with no stored token says so instead of crashing."""
    with pytest.raises(profile.ProfileError, match="no stored account"):
        profile.load_token(tmp_path, "Client-000009")


def test_profile_without_permission_bits_stores_and_loads(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Where files have no Unix modes (Windows), a token is stored and read back all the
    same: its file's mode, which such a system reports as 0666, is not held against it."""
    monkeypatch.setattr(profile, "POSIX_MODES", False)
    monkeypatch.setattr(profile.os, "fchmod", None, raising=False)  # never called there
    path = profile.save_account(tmp_path, "Client-000001", "a" * 32)
    path.chmod(0o666)
    assert profile.load_token(tmp_path, "Client-000001") == "a" * 32
