"""The `retouch` command: a thin Typer layer over the public API.

Subcommand modules import their heavy dependencies inside the command functions, so `retouch --help` is quick.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, NoReturn

import typer

from retouch import __version__
from retouch.cli import cutout as cutout_cli
from retouch.cli import info as info_cli
from retouch.cli import models as models_cli
from retouch.cli.erase import erase_command
from retouch.cli.restore import restore_command
from retouch.cli.serve import serve_command
from retouch.cli.upscale import upscale_command
from retouch.cli.common import CliState, print_error
from retouch.errors import RetouchError

try:  # Typer >= 0.25 vendors click privately; older releases use click itself.
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover
    from click import UsageError

INTERRUPTED = 130  # the exit code of a command stopped by Ctrl+C (128 + SIGINT)

app = typer.Typer(
    name="retouch",
    help="Retouch: a local AI photo editor. Erase objects, remove backgrounds, upscale, restore, all offline.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(models_cli.app, name="models")
app.command("erase")(erase_command)
cutout_cli.register(app)
info_cli.register(app)
app.command("upscale")(upscale_command)
app.command("restore")(restore_command)
app.command("serve")(serve_command)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"retouch {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Print details, and tracebacks of errors.")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="Print results as JSON, for scripts.")] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Never touch the network (same as RETOUCH_OFFLINE=1).")
    ] = False,
) -> None:
    if offline:
        os.environ["RETOUCH_OFFLINE"] = "1"
    ctx.obj = CliState(quiet=quiet, verbose=verbose, json=json_output)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; turn every expected error into one line and exit code 2.

    Run as the ``retouch`` program (``argv`` None), the process ends without the interpreter's teardown: by then
    every output is written, closed and renamed, and the teardown (finalising the modules of NumPy, OpenCV, Pillow
    and Typer and freeing what they hold) still took 0.08 s of a 12 MP ``retouch erase`` (median of 8 runs, against
    0.01 s with ``os._exit``)."""
    args = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in args or "-v" in args
    try:
        code = app(args=argv, prog_name="retouch", standalone_mode=False)
    except RetouchError as error:
        print_error(str(error))
        _leave(2, argv is None)
    except UsageError as error:
        if error.format_message():  # empty when a group was called bare and its help was shown
            print_error(error.format_message())
        _leave(2, argv is None)
    except typer.Abort:
        print_error("aborted")
        _leave(INTERRUPTED, argv is None)
    except KeyboardInterrupt:
        print_error("interrupted")
        _leave(INTERRUPTED, argv is None)
    except Exception as error:  # a bug: still one line unless the user asked for details
        if verbose:
            raise
        print_error(f"internal error: {type(error).__name__}: {error} (run with --verbose for the traceback)")
        _leave(1, argv is None)
    if code == INTERRUPTED:  # Typer turns Ctrl+C (KeyboardInterrupt) into this exit code, silently
        print_error("interrupted")
    _leave(code if isinstance(code, int) else 0, argv is None)


def _leave(code: int, fast: bool) -> NoReturn:
    """Exit with ``code``; ``fast``: flush the standard streams and skip the interpreter's teardown."""
    if fast:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
