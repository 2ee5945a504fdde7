"""Import every domain's models so metadata (create_all, Alembic) sees all tables."""
from perfapp.audit.models import AuditEntry
from perfapp.auth.models import Invite, LoginFailure, LoginSession, PasswordReset
from perfapp.coaching.models import (
    ActionItem,
    AgendaItem,
    FormalRecord,
    OneOnOne,
    OneOnOneSeries,
    PrivateNote,
)
from perfapp.core.changes import PersonChange
from perfapp.core.models import IdempotencyRecord
from perfapp.feedback.models import Feedback, FeedbackAsk, FeedbackRequest, FeedbackTag, Tag
from perfapp.goals.models import CheckIn, Goal, GoalLink, GoalSetting, KeyResult
from perfapp.integrations.models import CustomerPraise, CustomerPraisePerson, InboundNonce
from perfapp.meetings.models import CalendarToken, Meeting, MeetingAttendee, MeetingNote
from perfapp.moderation.models import ModerationDecision, PostingSuspension, Report
from perfapp.notify.models import Notification
from perfapp.onboarding.models import GettingStartedDismissal
from perfapp.people.models import Department, User
from perfapp.projects.models import Milestone, PeerReview, Project, ProjectMember
from perfapp.reactions.models import Comment, Reaction
from perfapp.recognition.models import (
    Badge,
    BadgeAward,
    BadgeHolding,
    FlowerGift,
    FlowerQuota,
    GiverMonth,
    RecognitionSetting,
)
from perfapp.reviews.models import (
    ReviewAssignment,
    ReviewComment,
    ReviewCycle,
    ReviewQuestion,
    ReviewRating,
    ReviewTagVote,
)
from perfapp.stories.models import Story, StoryPerson, StoryTag

__all__ = [
    "ActionItem", "AgendaItem", "FormalRecord", "OneOnOne", "OneOnOneSeries", "PrivateNote",
    "CalendarToken", "Meeting", "MeetingAttendee", "MeetingNote",
    "CheckIn", "Goal", "GoalLink", "GoalSetting", "KeyResult",
    "AuditEntry", "GettingStartedDismissal", "IdempotencyRecord", "PersonChange",
    "Department", "Feedback", "FeedbackAsk", "FeedbackRequest", "FeedbackTag", "Invite",
    "LoginFailure", "LoginSession", "PasswordReset", "Milestone", "PostingSuspension", "Notification", "PeerReview", "Project", "ProjectMember", "Tag", "User",
    "CustomerPraise", "CustomerPraisePerson", "InboundNonce", "Story", "StoryPerson", "StoryTag",
    "ReviewAssignment", "ReviewComment", "ReviewCycle", "ReviewQuestion", "ReviewRating", "ReviewTagVote",
    "Comment", "ModerationDecision", "Reaction", "Report",
    "Badge", "BadgeAward", "BadgeHolding", "FlowerGift", "FlowerQuota", "GiverMonth", "RecognitionSetting",
]
