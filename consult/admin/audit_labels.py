"""What the audit log calls each kind of action and of object, in the reader's
language (the keys stay in title attributes and in the CSV file), and which
kinds are recorded about accounts rather than forums."""

from flask_babel import lazy_gettext as _l

# What each kind of action is called on the page (the key stays in a title
# attribute and in the CSV). A kind not listed here is shown by its key.
ACTION_LABELS = {
    "amendment.draft": _l("Amendment returned to draft"),
    "amendment.submitted": _l("Amendment submitted"),
    "amendment.admitted": _l("Amendment admitted"),
    "amendment.accepted": _l("Amendment accepted"),
    "amendment.rejected": _l("Amendment rejected"),
    "amendment.withdrawn": _l("Amendment withdrawn"),
    "amendment.merged": _l("Amendment merged into a compromise"),
    "amendment.voting": _l("Amendment put to the vote"),
    "amendment.revise": _l("Amendment sent back for revision"),
    "amendment.compromise": _l("Compromise amendment written"),
    "api_token.created": _l("API token created"),
    "api_token.revoked": _l("API token revoked"),
    "coalition.created": _l("Coalition created"),
    "coalition.updated": _l("Coalition changed"),
    "comment.deleted": _l("Comment deleted"),
    "comment.hidden": _l("Comment hidden"),
    "comment.restored": _l("Comment shown again"),
    "consultation.created": _l("Consultation created"),
    "consultation.advanced": _l("Consultation moved to its next phase"),
    "consultation.phase_extended": _l("Phase extended"),
    "forum.created": _l("Forum created"),
    "forum.updated": _l("Forum settings changed"),
    "forum.archived": _l("Forum archived"),
    "forum.restored": _l("Forum taken out of the archive"),
    "group.created": _l("Working group created"),
    "group.updated": _l("Working group changed"),
    "group.member_added": _l("Added to a working group"),
    "group.member_removed": _l("Removed from a working group"),
    "invitation.sent": _l("Invitation sent"),
    "invitation.accepted": _l("Invitation accepted"),
    "membership.created": _l("Member added"),
    "membership.updated": _l("Member's role or weight changed"),
    "membership.removed": _l("Member removed"),
    "plan.approved": _l("Plan approved"),
    "plan.archived": _l("Plan archived"),
    "plan.restored": _l("Plan taken out of the archive"),
    "plan.settings": _l("Plan settings changed"),
    "plan.consolidation_requested": _l("Consolidated draft requested"),
    "plan.consolidated": _l("Consolidated draft made"),
    "plan.translated": _l("Plan translation saved"),
    "plan.translations_imported": _l("Plan translations imported"),
    "plan.version_import": _l("Plan imported"),
    "plan.version_edit": _l("Plan edited"),
    "plan.version_consolidation": _l("Plan version from a consolidated draft"),
    "poll.created": _l("Vote created"),
    "poll.opened": _l("Vote opened"),
    "poll.closed": _l("Vote closed"),
    "poll.cancelled": _l("Vote cancelled"),
    "poll.roll_call": _l("Roll call taken"),
    "assembly.created": _l("Assembly session called"),
    "assembly.started": _l("Assembly session opened"),
    "assembly.adjourned": _l("Assembly session adjourned"),
    "assembly.point_added": _l("Point added to the agenda"),
    "assembly.point_moved": _l("Point moved on the agenda"),
    "assembly.point_removed": _l("Point removed from the agenda"),
    "assembly.reordered": _l("Agenda reordered"),
    "assembly.took_up": _l("Point put on the floor"),
    "assembly.moved_on": _l("Session moved on to the next point"),
    "assembly.outcome_noted": _l("Outcome of a point noted"),
    "assembly.vote_opened": _l("Vote on a point opened"),
    "assembly.vote_closed": _l("Vote on a point closed"),
    "assembly.asked_to_speak": _l("Asked to speak"),
    "assembly.withdrew": _l("Request to speak withdrawn"),
    "assembly.called_speaker": _l("Speaker called"),
    "assembly.speaker_finished": _l("Speaker finished"),
    "assembly.time_limit": _l("Speaking time changed"),
    "assembly.speaking_rules": _l("Speaking time rules changed"),
    "assembly.minutes_signed": _l("Minutes signed"),
    "poll.proxy_granted": _l("Proxy given"),
    "poll.proxy_revoked": _l("Proxy withdrawn"),
    "user.deactivated": _l("Account deactivated"),
    "user.reactivated": _l("Account reactivated"),
    "user.deleted": _l("Account deleted by its owner"),
    "user.two_step_on": _l("Two-step sign-in turned on"),
    "user.two_step_off": _l("Two-step sign-in turned off"),
    "platform.two_step_required": _l("Two-step sign-in required or not"),
    "legal_text.changed": _l("Privacy notice or terms of use changed"),
}

OBJECT_LABELS = {
    "Amendment": _l("Amendment"),
    "ApiToken": _l("API token"),
    "Coalition": _l("Coalition"),
    "Comment": _l("Comment"),
    "Consolidation": _l("Consolidated draft"),
    "Consultation": _l("Consultation"),
    "Forum": _l("Forum"),
    "Invitation": _l("Invitation"),
    "Membership": _l("Membership"),
    "Phase": _l("Phase"),
    "Plan": _l("Plan"),
    "PlanVersion": _l("Plan version"),
    "Poll": _l("Vote"),
    "PlatformSetting": _l("Platform setting"),
    "User": _l("Account"),
    "WorkingGroup": _l("Working group"),
    "WorkingGroupMember": _l("Working group membership"),
}


def action_label(action: str) -> str:
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def object_label(object_type: str) -> str:
    label = OBJECT_LABELS.get(object_type)
    return str(label) if label is not None else object_type


# Kinds recorded about accounts, outside any forum: not offered in a forum's list.
PLATFORM_ACTIONS = frozenset(
    (
        "api_token.created",
        "api_token.revoked",
        "user.deactivated",
        "user.reactivated",
        "user.deleted",
        "user.two_step_on",
        "user.two_step_off",
        "platform.two_step_required",
        "legal_text.changed",
    )
)
