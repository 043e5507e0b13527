"""One error funnel for every command line: ``python -m core ...`` and ``python -m core.reproduce``.

Errors a person can fix are ``ValueError`` (bad options, configs, paths), ``OSError`` (files) or
a ``UserError`` (training, data, weights, zoo jobs): each prints as one ``error:`` line that says
what is wrong and what to do (exit 2). Anything else is a bug: still one line (exit 1), with the
traceback when ``$TGAN_DEBUG`` is set. Ctrl-C prints ``error: interrupted`` (exit 130).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from core.paths import DEBUG_ENV


class UserError(RuntimeError):
    """Base of the project's errors that a person can fix; the message names the fix."""


def one_line(message: object) -> str:
    """The message on one line (a path with a newline must not split the ``error:`` line)."""
    return " ".join(str(message).splitlines()) or "(no message)"


def report_errors(handler: Callable[[], int]) -> int:
    """Run ``handler`` and turn every exception into one ``error:`` line and an exit status."""
    try:
        return handler()
    except (UserError, ValueError, OSError) as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not a user mistake: still one line, traceback on request
        if os.environ.get(DEBUG_ENV):
            raise
        print(
            f"error: unexpected {type(exc).__name__}: {one_line(exc)} (set {DEBUG_ENV}=1 for "
            "the traceback, and please report it)",
            file=sys.stderr,
        )
        return 1
