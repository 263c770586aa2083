"""Option choices taken from enums in modules that load the store (SQLAlchemy and the ORM models).

The enum's module is imported only when the choices are first looked at: when that command's help is shown or
a value given for the option is checked, never while `kiosk` builds its parser. So `kiosk run` and
`kiosk --help` start fast, and the choices stay the enum's own values (nothing copied here to drift).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Iterator, Sequence
from typing import overload


class EnumValues(Sequence[str]):
    """The values of the enum `name` in `module`, looked up on first use."""

    def __init__(self, module: str, name: str) -> None:
        self._module = module
        self._name = name
        self._values: tuple[str, ...] | None = None

    def _loaded(self) -> tuple[str, ...]:
        if self._values is None:
            enum = getattr(importlib.import_module(self._module), self._name)
            self._values = tuple(member.value for member in enum)
        return self._values

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._loaded()[index]

    def __len__(self) -> int:
        return len(self._loaded())

    def __iter__(self) -> Iterator[str]:
        return iter(self._loaded())

    def __contains__(self, value: object) -> bool:
        return value in self._loaded()

    def __repr__(self) -> str:
        return f"EnumValues({self._module}.{self._name})"


def enum_choices(action: argparse.Action, module: str, name: str) -> None:
    """Restrict an option already added to the values of `module.name`.

    Set after `add_argument`, not passed to it: argparse walks `choices=` while adding an option (to check the
    metavar it would show), which would import the module right then."""
    action.choices = EnumValues(module, name)
