"""``consult plans …``: import, show and export plans (``plans consolidate``
comes from consult/consolidation/cli.py)."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..errors import ServiceError
from ..extensions import db
from ..forums.cli import forum_by_slug
from ..uploads import decode_text
from . import services
from .documents import export_filename, render
from .docx_reader import read_docx
from .markdown import to_markdown
from .models import Plan, PlanVersion


def plan_by_id(plan_id: int) -> Plan:
    """The plan named on the command line, or a usage error."""
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise click.ClickException(f"no plan {plan_id}")
    return plan


def _version(plan: Plan, number: int | None) -> PlanVersion:
    try:
        return services.get_version(plan, number)
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None


@click.group("plans")
def plans_group():
    """Import, show and export plans."""


@plans_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--forum", "forum_slug", required=True)
@click.option("--title", default="", help="Title when the document has none.")
@click.option("--lang", "language", type=click.Choice(["es", "en", "pt"]), default="es")
@with_appcontext
def plans_import(file, forum_slug, title, language):
    """Import FILE (.txt, .md or .docx) as a new plan of a forum."""
    forum = forum_by_slug(forum_slug)
    data = file.read_bytes()
    try:
        text = read_docx(data) if file.suffix.lower() == ".docx" else decode_text(data)
        plan = services.import_plan(
            None, forum, text, title=title, language=language, filename=file.name
        )
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None
    db.session.commit()
    version = plan.current_version
    for warning in services.preview(text, title or None).warnings:
        click.echo(f"warning: {warning.message}")
    click.echo(
        f"plan={plan.id} sections={version.section_count} items={version.item_count} "
        f"footnotes={version.footnote_count}"
    )


@plans_group.command("show")
@click.argument("plan_id", type=int)
@click.option("--version", "number", type=int, default=None)
@with_appcontext
def plans_show(plan_id, number):
    """Print the outline of a plan version with each node's reference."""
    version = _version(plan_by_id(plan_id), number)
    click.echo(f"{version.title} (version {version.number})")
    for node in services.version_nodes(version):
        text = node.text if len(node.text) <= 70 else node.text[:69] + "…"
        click.echo(f"{'  ' * node.depth}{node.ref:<10} {node.kind:<9} {text}")


@plans_group.command("export")
@click.argument("plan_id", type=int)
@click.option(
    "--format", "fmt", type=click.Choice(["md", "html", "pdf", "docx", "odt"]), required=True
)
@click.option("--version", "number", type=int, default=None)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@with_appcontext
def plans_export(plan_id, fmt, number, output):
    """Write a version of a plan as Markdown, HTML, PDF, DOCX or ODT."""
    plan = plan_by_id(plan_id)
    version = _version(plan, number)
    nodes = services.version_nodes(version)
    if fmt == "md":
        content = to_markdown(version.title, nodes).encode()
        filename = export_filename(plan, version, "md")
    else:
        content, _mimetype, filename = render(fmt, plan, version, nodes)
    target = output or Path(filename)
    target.write_bytes(content)
    click.echo(f"wrote {target} ({len(content)} bytes)")
