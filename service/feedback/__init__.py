"""Customer feedback on answers: the store interface, its SQLite backend, and the export."""

from service.feedback.store import (
    RATINGS,
    AnsweredTurn,
    Citation,
    Feedback,
    FeedbackStore,
    RatedAnswer,
    Rating,
    SQLiteFeedbackStore,
)

__all__ = [
    "RATINGS",
    "AnsweredTurn",
    "Citation",
    "Feedback",
    "FeedbackStore",
    "RatedAnswer",
    "Rating",
    "SQLiteFeedbackStore",
]
