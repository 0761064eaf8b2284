"""``consult amendments …``: amendments collected outside Consult."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..extensions import db
from ..plans.cli import plan_by_id
from .offline_import import import_amendments


@click.group("amendments")
def amendments_group():
    """Amendments collected outside Consult."""


@amendments_group.command("import")
@click.argument("plan_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def amendments_import(plan_id, file):
    """Import amendments collected offline from a CSV file.

    Columns: target,operation,text,justification,author,coalition,status.
    """
    plan = plan_by_id(plan_id)
    report = import_amendments(None, plan, file.read_bytes())
    db.session.commit()
    if report.error:
        click.echo(f"error: {report.error}")
    for row in report.rows:
        if not row.ok:
            click.echo(f"line {row.line}: {row.message}")
    click.echo(f"imported={report.imported} rejected={report.rejected}")
    if report.error and not report.rows:
        raise SystemExit(1)
