"""The variant grammar every config file shares (``--config=experiments/configs/<file>.py:<variant>``).

``<variant>`` is a comma-separated list of at most one row name and the optional token ``smoke``:

  ``""``            the file's default row
  ``"<row>"``       that row
  ``"smoke"``       the default row at 2-CPU smoke sizes
  ``"<row>,smoke"`` that row at smoke sizes

Each config lists its rows (and default) in its docstring.
"""

from __future__ import annotations

SMOKE = "smoke"


def parse(arg: str | None, rows, default: str, config: str) -> tuple[str, bool]:
    """``(row, smoke)`` of a variant string.

    Args:
      arg: the text after ``:`` in ``--config=<file>.py:<variant>`` (``None`` or ``""``: the default row).
      rows: the config's row names.
      default: the row used when ``arg`` names none.
      config: the config's name, for error messages.

    Raises:
      ValueError: an unknown row, two rows, or a repeated token (the message lists the valid rows).
    """
    parts = [p.strip() for p in (arg or "").split(",") if p.strip()]
    rest = [p for p in parts if p != SMOKE]
    if len(rest) > 1 or (rest and rest[0] not in rows) or len(parts) != len(set(parts)):
        raise ValueError(f"unknown variant {arg!r} for {config}; valid: '<row>', '{SMOKE}' or '<row>,{SMOKE}' "
                         f"with <row> one of {', '.join(rows)} (default {default})")
    return (rest[0] if rest else default), SMOKE in parts
