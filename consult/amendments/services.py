"""Transitional: ``votes/services.py`` (being split by its owner) still reads
these two names as ``amendments.<name>``. The amendments' rules and operations
live in their own modules (queries, permissions, proposing, lifecycle,
supports, compromises, rebasing, plan_settings); this module goes away once
votes imports ``consult.amendments.lifecycle`` (which also offers
``section_group_id``)."""

from .lifecycle import move_by_poll
from .plan_settings import section_group_id

__all__ = ["move_by_poll", "section_group_id"]
