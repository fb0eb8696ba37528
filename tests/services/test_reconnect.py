"""database_retry: a step that lost its connection runs again once the
database is back; inside a transaction, or on a working connection, the
error goes up unchanged. Against a private server the tests stop and start."""

import threading

import pytest
from django.db import OperationalError, connection, transaction

from campaigns.services.reconnect import database_retry

pytestmark = pytest.mark.slow


class Step:
    """Counts its runs; answers with the server's own session id."""

    def __init__(self, sql: str = "SELECT pg_backend_pid()"):
        self.sql = sql
        self.runs = 0

    def __call__(self):
        self.runs += 1
        with connection.cursor() as cursor:
            cursor.execute(self.sql)
            return cursor.fetchone()[0]


def test_a_step_runs_again_on_a_new_connection_once_the_database_is_back(
    private_server, private_database
):
    step = Step()
    first_session = step()
    private_server.stop("immediate")
    comes_back = threading.Timer(1.0, private_server.start)
    comes_back.start()
    try:
        session = database_retry(step, what="a test step", patience=30)
    finally:
        comes_back.join()
    assert step.runs == 3  # before the stop, failed during it, after it
    assert session != first_session


def test_it_gives_up_after_its_patience(private_server, private_database):
    step = Step()
    private_server.stop("fast")
    try:
        with pytest.raises(OperationalError):
            database_retry(step, what="a test step", patience=0.5)
    finally:
        private_server.start()
    assert step.runs == 1


def test_inside_a_transaction_the_fault_goes_up_to_who_began_it(
    private_server, private_database
):
    step = Step()
    with pytest.raises(OperationalError):
        with transaction.atomic():
            step()
            private_server.restart("fast")
            database_retry(step, what="a test step", patience=30)
    assert step.runs == 2
    connection.close()


def test_an_error_on_a_working_connection_is_not_retried(private_database):
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 10")
    step = Step("SELECT pg_sleep(1)")  # cancelled: an OperationalError
    with pytest.raises(OperationalError):
        database_retry(step, what="a test step", patience=30)
    assert step.runs == 1
    connection.close()
