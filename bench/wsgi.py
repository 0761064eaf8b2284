"""The app as gunicorn serves it in `make bench`, plus one route that serves a
file from BENCH_STATIC_DIR the way Flask serves static files: the baseline that
pages are compared with (same server, same size as the plan page)."""

import os

from flask import send_from_directory

from consult import create_app

app = create_app()
_folder = os.environ["BENCH_STATIC_DIR"]
app.add_url_rule(
    "/bench-static/<path:name>",
    endpoint="bench_static",
    view_func=lambda name: send_from_directory(_folder, name),
)
