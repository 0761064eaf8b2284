"""Consult: collaborative consultation and amendment of plans of action."""


def create_app(overrides: dict | None = None):
    """Build the application from the environment (and ``overrides``, for tests):
    see ``consult/app.py``."""
    # The one import inside a function: this module runs first whenever any
    # ``consult.x`` is imported (a worker's job, a model, a migration), and the
    # factory imports every feature; importing it here would load the whole app
    # for each of them.
    from .app import create_app as build

    return build(overrides)
