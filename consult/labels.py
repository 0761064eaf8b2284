"""Coded values (a status, a kind) shown in the reader's language.

An enumeration that derives from ``LabelledEnum`` gives each member its
translatable label next to its stored value::

    class AmendmentStatus(LabelledEnum):
        DRAFT = "draft", _l("Draft")

and templates show any member with the one ``|label`` filter
(``amendment.status|label``). A plain stored value (a string read from a form,
a JSON column or an aggregate) is shown by naming its enumeration:
``"draft"|label("AmendmentStatus")``.
"""

from enum import EnumType, StrEnum

from flask import Flask

# Every labelled enumeration by its class name, so a template can name one.
_KNOWN: dict[str, type["LabelledEnum"]] = {}


class _LabelledEnumType(EnumType):
    def __contains__(cls, value) -> bool:
        """``"draft" in AmendmentStatus`` asks about the stored values (as Python
        3.12 does), instead of raising on a plain string (3.11)."""
        return isinstance(value, cls) or value in cls._value2member_map_


class LabelledEnum(StrEnum, metaclass=_LabelledEnumType):
    """A ``StrEnum`` whose members are ``value, label`` pairs: the value is what
    the database stores (the members compare equal to it), the label is what a
    reader sees. A third element, where a choice needs more words than its
    label (a form's options), is its ``description``."""

    def __new__(cls, value: str, label=None, description=None):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label if label is not None else value
        member.description = description if description is not None else member.label
        return member

    def __init_subclass__(cls, **options):
        super().__init_subclass__(**options)
        _KNOWN[cls.__name__] = cls

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """``(value, label)`` pairs, in the order of the enumeration (for forms)."""
        return [(member.value, member.label) for member in cls]


def known_enum(name: str) -> type[LabelledEnum] | None:
    return _KNOWN.get(name)


def labelled_enums() -> list[type[LabelledEnum]]:
    """Every labelled enumeration defined so far (all of them once the app's
    models are imported)."""
    return list(_KNOWN.values())


def label(value, enum: str | type[LabelledEnum] | None = None) -> str:
    """The reader's word for ``value``: a member of a labelled enumeration, or a
    value of the enumeration named by ``enum``. Anything else is shown as it is."""
    if isinstance(value, LabelledEnum):
        return str(value.label)
    kind = _KNOWN.get(enum) if isinstance(enum, str) else enum
    if kind is not None and value in kind._value2member_map_:
        return str(kind(value).label)
    return "" if value is None else str(value)


def register_label_filter(app: Flask) -> None:
    app.add_template_filter(label, "label")
