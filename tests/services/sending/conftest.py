"""Real worker processes for the engine tests that need them (marked slow)."""

import pytest

from ...workers import Workers


@pytest.fixture
def workers(sandbox):
    pool = Workers(
        sandbox_url=sandbox.url,
        ENGINE_TICK_SECONDS=1,
        SEND_CLAIM_TIMEOUT=3,
        SEND_TASK_SLICE_SECONDS=5,
        SEND_TASKS_PER_CAMPAIGN=4,
    )
    yield pool
    pool.stop()
