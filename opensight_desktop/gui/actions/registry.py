"""How an action of the window is declared: once, with its id, text, shortcuts, place in a
menu, on the toolbar and in the evidence list's right-click menu, and when it is enabled
(napari's declarative actions are the model). The window builds menus, toolbar, context
menu, shortcuts and the shortcut help from the declarations and checks every action's rule
again whenever the session says something changed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum, Flag, auto
from typing import TYPE_CHECKING, Any

from opensight_desktop.session import CaseSession

if TYPE_CHECKING:
    from opensight_desktop.gui.main_window import MainWindow


class When(Flag):
    """What an action needs; ``When.CASE | When.IDLE``: both."""

    ALWAYS = 0
    CASE = auto()  # a case is open
    WRITABLE = auto()  # a case is open and can be changed (not read-only)
    CURRENT = auto()  # an item is shown
    SELECTION = auto()  # items are selected
    IDLE = auto()  # no job is running
    JOB = auto()  # a job is running
    UNDO = auto()  # a review change of this session can be taken back


def now(session: CaseSession) -> When:
    """What holds now."""
    holds = When.ALWAYS
    if session.case is not None:
        holds |= When.CASE
        if session.writable:
            holds |= When.WRITABLE
        if session.current_item is not None:
            holds |= When.CURRENT
        if session.selected_ids:
            holds |= When.SELECTION
        if session.writable and len(session.undo_stack):
            holds |= When.UNDO
    holds |= When.JOB if session.job is not None else When.IDLE
    return holds


class Menu(Enum):
    """The menu bar, in this order."""

    CASE = "&Case"
    EDIT = "&Edit"
    EVIDENCE = "&Evidence"
    TOOLS = "&Tools"
    HELP = "&Help"


@dataclass(frozen=True)
class Place:
    """Where in a menu: groups are separated, ``order`` sorts within a group."""

    menu: Menu
    group: int = 0
    order: int = 0


@dataclass(frozen=True)
class Tool:
    """On the toolbar, at ``order``, with an icon from resources/icons and a short text."""

    order: int
    icon: str
    text: str


@dataclass(frozen=True)
class ContextPlace:
    """In the right-click menu of the list and the gallery (on the items it was opened on):
    groups are separated, ``order`` sorts within a group, ``submenu`` gathers entries."""

    group: int = 0
    order: int = 0
    submenu: str | None = None


@dataclass(frozen=True)
class Action:
    id: str
    text: str
    run: Callable[[MainWindow], Any]
    shortcut: str | None = None
    # In a menu; None: a shortcut of the case workspace only (review keys, viewer keys).
    place: Place | None = None
    tool: Tool | None = None
    when: When = When.ALWAYS
    context: ContextPlace | None = None
    more_keys: tuple[str, ...] = ()  # further shortcuts for the same action ("?" for F1)

    @property
    def keys(self) -> tuple[str, ...]:
        return ((self.shortcut,) if self.shortcut else ()) + self.more_keys

    def enabled(self, holds: When) -> bool:
        return self.when in holds


def menu_groups(actions: Iterable[Action]) -> dict[Menu, list[list[Action]]]:
    """Each menu's actions in their groups (separated in the menu), all in order."""
    groups: dict[Menu, dict[int, list[Action]]] = {menu: {} for menu in Menu}
    for spec in actions:
        if spec.place is not None:
            groups[spec.place.menu].setdefault(spec.place.group, []).append(spec)
    return {
        menu: [
            sorted(group, key=lambda spec: spec.place.order if spec.place else 0)
            for _number, group in sorted(by_number.items())
        ]
        for menu, by_number in groups.items()
    }


def toolbar_actions(actions: Iterable[Action]) -> list[Action]:
    """The toolbar's actions, in order."""
    return sorted(
        (spec for spec in actions if spec.tool is not None),
        key=lambda spec: spec.tool.order if spec.tool else 0,
    )


def context_groups(actions: Iterable[Action]) -> list[list[Action]]:
    """The right-click menu's actions in their groups, all in order."""
    groups: dict[int, list[Action]] = {}
    for spec in actions:
        if spec.context is not None:
            groups.setdefault(spec.context.group, []).append(spec)
    return [
        sorted(group, key=lambda spec: spec.context.order if spec.context else 0)
        for _number, group in sorted(groups.items())
    ]


def shortcut_rows(actions: Iterable[Action]) -> list[tuple[str, str]]:
    """(keys, what they do) for every declared shortcut, in declaration order; the text
    without its menu accelerator (``&``) and ellipsis."""
    return [
        (", ".join(spec.keys), spec.text.replace("&&", "\0").replace("&", "").replace("\0", "&"))
        for spec in actions
        if spec.keys
    ]
