import pytest

from ..report_helpers import finished_campaign


@pytest.fixture
def finished(db):
    """Ten recipients, one per report case (see tests/report_helpers.py)."""
    return finished_campaign()
