"""A cursor whose statements PostgreSQL prepares once per connection: for the few long
statements a hot path runs on every request (checkout's stock take).

Django's cursors bind parameters on the client (the simple protocol), so PostgreSQL plans every
statement afresh. That is cheap for an INSERT, but checkout's one-statement stock take
(inventory.stock.TAKE: a CTE with joins, window functions, an UPDATE and an INSERT) took
longer to plan (0.37 ms) than to run (0.18 ms). This cursor binds on the server (psycopg's
Cursor, as Django's server_side_binding would), so psycopg prepares the statement on its first
use on a connection (OPTIONS prepare_threshold, harbor/settings.py) and later uses only send its
parameters; PostgreSQL then settles on a generic plan and stops planning it.

It is otherwise Django's own cursor: the connection's health check, query logging (tests count
its statements), django-prometheus's counters and Django's error translation all apply.
One statement per execute (the extended protocol takes no more). Behind a pooler in
transaction mode (PgBouncer before 1.21) prepared statements must be turned off:
DB_PREPARE_THRESHOLD="" does that, and the statement is then planned every time again.
"""

import functools

from django.db import connection


@functools.cache
def _cursor_class(alias, vendor):
    from django.db.backends.postgresql.base import ServerBindingCursor
    from django_prometheus.db.common import ExportingCursorWrapper  # the engine's counters, as on every cursor

    class PreparingCursor(ServerBindingCursor):
        def _convert_query(self, query, params=None):
            # Django's query log (tests' CaptureQueriesContext, the debug toolbar) reads the
            # statement from `_query`, which psycopg keeps only for client-binding cursors: keep
            # it here too (the text with $1, $2… in place of the parameters).
            self._query = converted = super()._convert_query(query, params)
            return converted

    return ExportingCursorWrapper(PreparingCursor, alias, vendor)


def prepared_cursor():
    """Django's cursor over a server-binding psycopg cursor (as connection.cursor() builds one)."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    return connection._prepare_cursor(_cursor_class(connection.alias, connection.vendor)(connection.connection))
