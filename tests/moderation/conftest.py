from tests.reactions.conftest import make_feedback, team  # noqa: F401  (the same team and feedback)
