"""Cross-domain events. Handlers run in the sender's transaction."""
from blinker import Namespace

_signals = Namespace()

#: sent with feedback=Feedback after a feedback row is flushed
feedback_given = _signals.signal("feedback-given")
#: sent with request=FeedbackRequest after a request and its asks are flushed
feedback_requested = _signals.signal("feedback-requested")
#: sent with milestone=Milestone, actor=User after a milestone's reached_at is flushed
milestone_reached = _signals.signal("milestone-reached")
#: sent with notification=Notification after an inbox entry is flushed (push delivery hangs here)
notification_created = _signals.signal("notification-created")
#: sent with gift=FlowerGift after flowers are given and flushed
flowers_given = _signals.signal("flowers-given")
#: sent with award=BadgeAward after a badge is awarded (by a person or a rule) and flushed
badge_awarded = _signals.signal("badge-awarded")
#: sent with story=Story when everyone involved has accepted and the story is published
story_published = _signals.signal("story-published")
#: sent with praise=CustomerPraise after a customer's praise email is confirmed as being about people
customer_praise_confirmed = _signals.signal("customer-praise-confirmed")
#: sent with target_type=str, target_id=int just before moderation deletes a reported row
content_deleted = _signals.signal("content-deleted")
