"""The help pages: an index of the guides and one page per guide, in the
reader's interface language. Open to everyone, signed in or not."""

from flask import Blueprint, render_template, url_for
from flask_babel import get_locale

from . import guides

bp = Blueprint("help", __name__, url_prefix="/help")


@bp.get("/")
def index():
    return render_template("help/index.html", guides=guides.GUIDES)


def guide(guide):
    current = guides.BY_SLUG[guide]
    return render_template(
        guides.template_for(current.slug, str(get_locale())),
        guide=current,
        guides=guides.GUIDES,
    )


# One address per guide (/help/member …), so that an unknown name is a plain 404.
for _guide in guides.GUIDES:
    bp.add_url_rule(f"/{_guide.slug}", "guide", guide, defaults={"guide": _guide.slug})


@bp.app_template_global()
def help_url(section: str) -> str:
    """The address of a section of a guide that a page links to ("secret-vote")."""
    slug, anchor = guides.SECTIONS[section]
    return url_for("help.guide", guide=slug, _anchor=anchor)
