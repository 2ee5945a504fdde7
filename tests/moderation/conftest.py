from tests.reactions.conftest import make_feedback, team  # noqa: F401  (the same team and feedback)

REPORTERS = ("other", "recipient", "boss", "author")


def report_until_hidden(people, target_type: str, target_id: int, reason: str = "spam", skip: str = "") -> list:  # type: ignore[no-untyped-def]
    """Three different people report the row: hidden from everyone until HR decides."""
    from perfapp.moderation import services

    reporters = [who for who in REPORTERS if who != skip][: services.reports_to_hide()]
    return [services.report(people[who], target_type, target_id, reason) for who in reporters]
