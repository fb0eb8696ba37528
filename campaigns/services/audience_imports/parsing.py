"""Reading a large file's rows on every core: the file is split into its rows
here, and their phone numbers, the bulk of a check's time, are read by
helper processes, a batch at a time, the batches coming back in file order.
"""

import multiprocessing
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import chain, islice

from ...audience_csv import AudienceCsvReader, ParsedRow, RejectedRow

# Batches handed to the helpers ahead of the one being staged: enough to keep
# them busy, few enough that a large file is never all in memory.
BATCHES_AHEAD_PER_PROCESS = 2


def rows_parsed_in_batches(
    reader: AudienceCsvReader, *, batch_rows: int, processes: int
) -> Iterator[list[ParsedRow | RejectedRow]]:
    """The file's rows, parsed, in batches of up to `batch_rows` file rows,
    in file order; with `processes` > 1 the parsing runs in that many helper
    processes (started fresh: they need nothing of this one's state)."""
    numbered = reader.numbered_rows()
    chunks = iter(lambda: list(islice(numbered, batch_rows)), [])
    first = next(chunks, [])
    if processes <= 1 or len(first) < batch_rows:
        # One batch is the whole file: not worth starting processes for.
        for chunk in chain([first], chunks):
            yield reader.parser.parse_many(chunk)
        return
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=spawn) as pool:
        pending: deque[Future] = deque()
        for chunk in chain([first], chunks):
            pending.append(pool.submit(reader.parser.parse_many, chunk))
            if len(pending) >= processes * BATCHES_AHEAD_PER_PROCESS:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
