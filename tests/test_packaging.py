"""An installed copy (not only the checkout) carries templates, catalogs and migrations."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_top_level_resource_folder_is_packaged():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    data_files = config["tool"]["setuptools"]["data-files"]
    packaged = {target.removeprefix("share/consult/") for target in data_files}
    folders = set()
    for top in ("templates", "translations", "migrations"):
        for folder in [ROOT / top, *(p for p in (ROOT / top).rglob("*") if p.is_dir())]:
            if "__pycache__" in folder.parts:
                continue
            if any(child.is_file() for child in folder.iterdir()):
                folders.add(str(folder.relative_to(ROOT)))
    assert folders <= packaged, f"add to [tool.setuptools.data-files]: {sorted(folders - packaged)}"
