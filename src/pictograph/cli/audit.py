"""``pictograph audit``: the organisation's audit trail through ``client.audit`` (admin keys)."""

from __future__ import annotations

import click

from pictograph.cli.client_options import Connection, connection_options, pass_connection
from pictograph.cli.output import print_json, print_table


@click.command()
@click.option("--limit", "-n", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--key", "key_id", default=None, help="Only the calls made with this key id.")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
@connection_options
@pass_connection
def audit(connection: Connection, limit: int, key_id: str | None, as_json: bool) -> None:
    """Show who removed or changed data or access, newest first (admin keys).

    \b
    Example:
      pictograph audit --limit 20
    """
    with connection.client() as client:
        entries = client.audit.list(limit=limit, key_id=key_id)
    if as_json:
        print_json([entry.model_dump(mode="json") for entry in entries])
        return
    if not entries:
        click.echo("No audit entries.")
        return
    print_table(
        ["when", "key", "action", "call", "#status", "from"],
        [
            (
                f"{e.created_at:%Y-%m-%d %H:%M:%S}",
                e.key_name or e.key_id or "local",
                e.action,
                f"{e.method} {e.path}",
                e.status,
                e.client or "",
            )
            for e in entries
        ],
    )
