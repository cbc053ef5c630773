"""The public names of the api and review packages (a change here is a change of contract)."""

from __future__ import annotations

import fraudpipe.api
import fraudpipe.review


def test_public_names_are_pinned():
    assert set(fraudpipe.api.__all__) == {
        "VARIABLES", "ApiError", "BadRequestError", "NotReadyError", "PredictRequest",
        "Predictor", "UnauthorizedError", "validate_request",
    }  # fmt: skip
    assert set(fraudpipe.review.__all__) == {
        "Label", "LabelStore", "LocalReviewer", "LoopItem", "LoopRequest", "LoopResult",
        "Resumption", "ReviewQueue", "ReviewSettings", "Reviewer", "mark_resumed",
        "pending_resumptions", "resume_ready", "review_summary",
    }  # fmt: skip
    for module in (fraudpipe.api, fraudpipe.review):
        assert all(hasattr(module, name) for name in module.__all__)
