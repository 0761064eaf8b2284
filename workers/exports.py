from . import app_context


def render_export(export_id: int) -> str:
    from consult.plan_pages.exports import run_export

    with app_context():
        export = run_export(export_id)
        return export.state if export is not None else "missing"
