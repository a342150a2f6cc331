"""`retouch models ...` (being written)."""

import typer

app = typer.Typer(help="List, pull, locate and verify model weights.", no_args_is_help=True)
