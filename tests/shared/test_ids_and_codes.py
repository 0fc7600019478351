"""Tests of shared.ids (user and group ids) and shared.codes (the numbers of the wire format)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import ids
from shared.codes import CODE_WIDTH, ID_WIDTH, ErrorCode, FrameCode

USERS = st.integers(1, ids.MAX_USER_NUMBER)
GROUPS = st.integers(1, ids.MAX_GROUP_NUMBER)


@pytest.mark.parametrize(
    ("number", "ident"),
    [
        pytest.param(1, "Client-000001", id="first"),
        pytest.param(42, "Client-000042", id="padded"),
        pytest.param(ids.MAX_USER_NUMBER, "Client-999999", id="last"),
    ],
)
def test_ids_user_id_pads_the_number_to_six_digits(number: int, ident: str) -> None:
    """user_id(n) is `Client-` and n as six digits."""
    assert ids.user_id(number) == ident


@pytest.mark.parametrize(
    ("number", "ident"),
    [
        pytest.param(1, "Group-0000001", id="first"),
        pytest.param(4242, "Group-0004242", id="padded"),
        pytest.param(ids.MAX_GROUP_NUMBER, "Group-9999999", id="last"),
    ],
)
def test_ids_group_id_pads_the_number_to_seven_digits(number: int, ident: str) -> None:
    """group_id(n) is `Group-` and n as seven digits."""
    assert ids.group_id(number) == ident


@pytest.mark.parametrize("number", [0, -1, ids.MAX_USER_NUMBER + 1])
def test_ids_user_id_refuses_numbers_out_of_range(number: int) -> None:
    """User numbers run from 1 to 999999; others raise ValueError."""
    with pytest.raises(ValueError):
        ids.user_id(number)


@pytest.mark.parametrize("number", [0, -1, ids.MAX_GROUP_NUMBER + 1])
def test_ids_group_id_refuses_numbers_out_of_range(number: int) -> None:
    """Group numbers run from 1 to 9999999; others raise ValueError."""
    with pytest.raises(ValueError):
        ids.group_id(number)


@given(USERS)
def test_ids_user_id_round_trips(number: int) -> None:
    """A user id is 13 characters, recognised as a user (not a group), and gives its number."""
    ident = ids.user_id(number)
    assert len(ident) == ID_WIDTH
    assert ids.is_user_id(ident) and not ids.is_group_id(ident)
    assert ids.number_of(ident) == number


@given(GROUPS)
def test_ids_group_id_round_trips(number: int) -> None:
    """A group id is 13 characters, recognised as a group (not a user), and gives its number."""
    ident = ids.group_id(number)
    assert len(ident) == ID_WIDTH
    assert ids.is_group_id(ident) and not ids.is_user_id(ident)
    assert ids.number_of(ident) == number


NOT_IDS = [
    pytest.param("", id="empty"),
    pytest.param("Client-00001", id="five-digits"),
    pytest.param("Client-0000001", id="seven-digits"),
    pytest.param("Group-000001", id="group-six-digits"),
    pytest.param("Group-00000001", id="group-eight-digits"),
    pytest.param("client-000001", id="lowercase-user"),
    pytest.param("group-0000001", id="lowercase-group"),
    pytest.param("Client-00000a", id="letter"),
    pytest.param("Client-00000\n", id="trailing-lf"),
    pytest.param("Client-000001\n", id="extra-lf"),
    pytest.param("Group-0000001\n", id="group-extra-lf"),
    pytest.param(" Client-00001", id="leading-space"),
    pytest.param("Client-\u0660\u0660\u0660\u0660\u0660\u0661", id="arabic-digits"),
    pytest.param("Group-\uff10\uff10\uff10\uff10\uff10\uff10\uff11", id="fullwidth-digits"),
    pytest.param("Client+000001", id="plus"),
]


@pytest.mark.parametrize("text", NOT_IDS)
def test_ids_recognise_only_exact_ids(text: str) -> None:
    """Only `Client-` + 6 ASCII digits and `Group-` + 7 ASCII digits are ids."""
    assert not ids.is_user_id(text)
    assert not ids.is_group_id(text)


def test_ids_recognise_the_shape_not_the_range() -> None:
    """The pattern knows digits only; `Client-000000` has the shape of a user id."""
    assert ids.is_user_id("Client-000000")
    assert ids.is_group_id("Group-0000000")


def test_codes_frame_codes_fit_two_digits() -> None:
    """Every frame code is written with CODE_WIDTH digits: the course's 00 to 19, then
    later ones in order below 100."""
    codes = [int(code) for code in FrameCode]
    assert codes[:20] == list(range(20))
    assert codes == sorted(set(codes)) and codes[-1] < 100
    assert all(len(f"{code:02d}") == CODE_WIDTH for code in FrameCode)


def test_codes_error_codes_fit_two_digits() -> None:
    """Every error code is 01..99 and written with two digits."""
    assert all(1 <= code <= 99 for code in ErrorCode)
    assert f"{ErrorCode.MALFORMED:02d}" == "01"
    assert f"{ErrorCode.INTERNAL:02d}" == "99"


def test_codes_error_codes_match_the_protocol_table() -> None:
    """The error codes carry the numbers of PROTOCOL.md, "Error codes"."""
    assert {code.name: code.value for code in ErrorCode} == {
        "MALFORMED": 1, "TOO_LONG": 2, "NOT_LOGGED_IN": 3, "BAD_CREDENTIALS": 4,
        "UNKNOWN_PEER": 5, "NOT_YOU": 6, "NOT_A_MEMBER": 7, "INVALID_GROUP": 8,
        "INVALID_TEXT": 9, "RATE_LIMITED": 10, "ALREADY_LOGGED_IN": 11, "REPLACED": 12,
        "SERVER_FULL": 13, "QUEUE_FULL": 14, "TIMEOUT": 15, "TOO_MANY_ACCOUNTS": 16,
        "TOO_MANY_CONNECTIONS": 17, "TOO_MANY_FAILED_LOGINS": 18, "NOT_PERMITTED": 19,
        "REGISTRATION_CLOSED": 20, "BAD_INVITE": 21, "ACCOUNT_DISABLED": 22,
        "NOT_ADMIN": 23, "INVALID_NAME": 24, "GROUP_FULL": 25, "WRONG_MEMBER": 26,
        "NOT_YOUR_MESSAGE": 27, "NOT_AUTHOR": 29, "TOO_LATE": 30, "UNKNOWN_MESSAGE": 31,
        "INVALID_REACTION": 32,
        "INTERNAL": 99,
    }
