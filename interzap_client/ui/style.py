"""Colours and attributes, keyed by class name (as in prompt_toolkit's calculator example).

Refuses to know anything but looks: layout.py names the classes.
"""

from prompt_toolkit.styles import Style

TICKS = {
    "PENDING": ("…", "class:tick.pending"),
    "ACCEPTED": ("✓", "class:tick.accepted"),
    "DELIVERED": ("✓✓", "class:tick.delivered"),
    "READ": ("✓✓", "class:tick.read"),  # same marks, the read colour tells them apart
    "FAILED": ("✗ not sent", "class:tick.failed"),
}
"""Tick name -> (marks, style class) shown after an own message."""

STYLE = Style.from_dict(
    {
        "list": "bg:#1c1c1c #d0d0d0",
        "list.title": "bold #ffffff",
        "list.open": "bg:#005f5f #ffffff bold",
        "list.unread": "bold #ffd75f",
        "list.time": "#8a8a8a",
        "separator": "#444444",
        "header": "bold",
        "header.members": "#8a8a8a",
        "more": "reverse #ffd75f",
        "panel": "bg:#262626 #d0d0d0",
        "panel.command": "bold",
        "panel.note": "#a8a8a8",
        "day": "#8a8a8a italic",
        "time": "#8a8a8a",
        "author": "bold #87afff",
        "own": "bold #87d787",
        "text": "",
        "edited": "#8a8a8a italic",
        "deleted": "#8a8a8a italic",
        "quote": "#8a8a8a",
        "reactions": "#d7af87",
        "selected": "bg:#303030",
        "tick.pending": "#8a8a8a",
        "tick.accepted": "#a8a8a8",
        "tick.delivered": "#d0d0d0",
        "tick.read": "bold #00afff",
        "tick.failed": "bold #ff5f5f",
        "system": "#bcbcbc",
        "system.error": "bold #ff5f5f",
        "system.warning": "#ffaf00",
        "status": "reverse",
        "status.bad": "bg:#870000 #ffffff",
        "status.error": "bg:#5f0000 #ffffff",
        "status.warning": "bg:#875f00 #ffffff",
        "prompt": "bold #87d787",
    }
)
