"""A human answers through the review page in a real browser (Debian chromium, headless)."""

from __future__ import annotations

import pytest

from fraudpipe.api.keys import ensure_api_key
from fraudpipe.review.queue import ReviewQueue
from fraudpipe.review.resume import pending_resumptions
from fraudpipe.server import create_app
from tests.conftest import live_server


@pytest.mark.browser
@pytest.mark.slow
def test_answering_on_the_review_page_removes_the_item(workspace, output_dir, chromium):
    # GIVEN two items of a waiting execution in the queue and a running server
    queue = ReviewQueue(workspace.review_db)
    queue.add("exec-7-ev-1", "exec-7", "ev-1", 870.0,
              {"trans_num": "ev-1", "amt": 912.4, "merchant": "fraud_Kub PLC", "city": "Ames"})
    queue.add("exec-7-ev-2", "exec-7", "ev-2", 720.0,
              {"trans_num": "ev-2", "amt": 55.1, "merchant": "fraud_Lind", "city": "Lima"})
    queue.add_wait("exec-7", "tok-7", 600)
    key = ensure_api_key(workspace)
    with live_server(create_app(workspace)) as url:
        page = chromium.new_page()
        # WHEN the reviewer opens the page with the key and answers the first item
        page.goto(f"{url}/review?key={key}")
        rows = page.locator("#queue tbody tr")
        assert rows.count() == 2
        assert rows.first.get_attribute("data-loop") == "exec-7-ev-1"  # highest score first
        assert "fraud_Kub PLC" in rows.first.inner_text()
        rows.first.get_by_role("button", name="Fraudulent").click()
        page.wait_for_selector("#flash")
        # THEN it left the queue, and the other is still there
        remaining = page.locator("#queue tbody tr")
        assert remaining.count() == 1
        assert remaining.first.get_attribute("data-loop") == "exec-7-ev-2"
        page.screenshot(path=str(output_dir / "review-page.png"), full_page=True)
        remaining.first.get_by_role("button", name="Valid").click()
        page.wait_for_selector("#empty")
    assert queue.get("exec-7-ev-1").verdict == "fraud"
    assert queue.get("exec-7-ev-2").verdict == "legit"
    assert (output_dir / "review-page.png").stat().st_size > 0
    [ready] = pending_resumptions(workspace)  # the runtime would now resume exec-7
    assert ready.output == {"answered": 2, "unanswered": 0,
                            "loop_names": ["exec-7-ev-1", "exec-7-ev-2"]}  # fmt: skip
