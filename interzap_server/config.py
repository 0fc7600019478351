"""The configuration file (`--config FILE`): TOML whose keys are the server's options.

A key is an option's long name without its dashes, with `-` or `_` alike
(`max-per-address = 64` or `max_per_address = 64`); a value has the TOML type of
what the option takes: an integer, a number (integer or float), a boolean for a
switch (`reuse-port = true`), or a string for everything else (`trusted =
"127.0.0.0/8,::1,10.0.0.0/8"`, as on the command line). The values become the
parser's defaults, so the command line wins.

Knows TOML and argparse's actions; knows nothing of what an option means. Refuses
what it cannot read: an unknown key, a table, an array, a boolean for anything but
a switch, a value of the wrong type or outside an option's choices, each named with
the file and the key.
"""

import argparse
import difflib
import tomllib
from typing import Any

NOT_IN_A_FILE = frozenset({"help", "config"})
"""Options the file cannot set."""

_KINDS: dict[Any, tuple[tuple[type, ...], str]] = {
    int: ((int,), "an integer"),
    float: ((int, float), "a number"),
}
_OTHER = ((str,), "a string")  # options without a type, or typed by a function of a string
_TOML_NAMES = {bool: "a boolean", int: "an integer", float: "a float", str: "a string",
               list: "an array", dict: "a table"}


class ConfigError(Exception):
    """The file cannot be used; the message names the file (and the key)."""


def load(path: str, parser: argparse.ArgumentParser) -> dict[str, object]:
    """The options the file sets, by destination, converted as the command line would."""
    try:
        with open(path, "rb") as file:
            table = tomllib.load(file)
    except OSError as exc:
        raise ConfigError(f"cannot read the configuration file {path}: "
                          f"{exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    actions = {action.dest: action for action in parser._actions
               if action.option_strings and action.dest not in NOT_IN_A_FILE}
    values: dict[str, object] = {}
    for key, raw in table.items():
        dest = key.replace("-", "_")
        action = actions.get(dest)
        if action is None:
            raise ConfigError(f"{path}: unknown key '{key}'{_suggest(dest, actions)}")
        values[dest] = _convert(f"{path}: {key}", action, raw)
    return values


def _suggest(dest: str, actions: dict[str, argparse.Action]) -> str:
    close = difflib.get_close_matches(dest, list(actions), n=1)
    return f" (did you mean '{close[0].replace('_', '-')}'?)" if close else ""


def _convert(where: str, action: argparse.Action, raw: object) -> object:
    """`raw` as the option's value, or a ConfigError saying what was expected."""
    if action.nargs == 0:  # a switch (--reuse-port): true or false
        if not isinstance(raw, bool):
            got = _TOML_NAMES.get(type(raw), type(raw).__name__)
            raise ConfigError(f"{where} must be a boolean, not {got} ({raw!r})")
        return raw
    kinds, wanted = _KINDS.get(action.type, _OTHER)
    if isinstance(raw, bool) or not isinstance(raw, kinds):
        got = _TOML_NAMES.get(type(raw), type(raw).__name__)
        raise ConfigError(f"{where} must be {wanted}, not {got} ({raw!r})")
    value: object = raw
    if callable(action.type) and action.type not in _KINDS and isinstance(raw, str):
        try:
            value = action.type(raw)
        except (argparse.ArgumentTypeError, ValueError) as exc:
            raise ConfigError(f"{where}: {exc}") from None
    elif action.type is float and isinstance(raw, int):
        value = float(raw)
    if action.choices is not None and value not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise ConfigError(f"{where} must be one of {choices}, not {raw!r}")
    return value
