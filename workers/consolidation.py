from . import app_context


def consolidate(consolidation_id: int) -> str:
    from consult.consolidation.job import run

    with app_context():
        consolidation = run(consolidation_id)
        return consolidation.state if consolidation is not None else "missing"
