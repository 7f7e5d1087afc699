"""The outside clock: a kernel's reported times held against the wall time the judge saw, from its own process.

The judge times one batch of ``calls`` timed calls as the kernel's process makes them (prepare, flush, call, one sync at
the end; ``timing.run_batch``), from the request sent to the reply read. From that wall time it takes the least round
trip of a few pings of the same process (never more than it took before the kernel's code was imported there, so a
kernel cannot slow its own answers to pings to have more subtracted) and its own measure of the fixed costs (the same
batch with an empty call in the judge's own process: output poisoning, L2 flush, Python loop), and divides by the calls:
what one call cost at most, as seen from outside. A reported median that this contradicts is
``REWARD_HACK [outside-clock]``.

How tight: the outside figure holds host-side work too (Python launch overhead, argument handling) that a device
timer rightly leaves out, so only a gap larger than ``RATIO`` times the reported median plus an allowance
(``HOST_ALLOWANCE_MS``, the harness's work once a request ``REQUEST_ALLOWANCE_MS`` over the calls, and the judge's own
empty loop per call, ``OutsideClock.allowance_ms``) is a contradiction; a batch holds 2 to 16 calls (fewer where the
inputs are large), so the allowance is 0.4 to 1.5 ms a call beyond the judge's loop. Kernels over about 1 ms: a report under about half the outside figure fails. Kernels of
0.1-1 ms: a report must hide more than the allowance per call (0.4 to 1.5 ms and the judge's loop) to fail. Under 0.1 ms: the outside clock catches only
gross forgeries (a 0.5 ms kernel reporting 0.05 ms); the physical floor, the kernel sets and the timed-output checks
are what hold there. A kernel that skips the fixed costs the judge subtracts (no flush) gains at most those costs.
A contradicting batch is tried again on other fresh inputs and the fastest batch stands (``timed.OUTSIDE_TRIES``):
noise only ever adds time.
Pure: no torch, no process.
"""

from __future__ import annotations

from dataclasses import dataclass

RULE = "outside-clock"
RATIO = 2.0
HOST_ALLOWANCE_MS = 0.25
#: The harness's own work in the kernel's process once a request (arming the tripwires, reading the dispatch tables
#: after the last call, the young collections, the first holding the mapping's garbage, the last delivery): 2.2 to
#: 3.5 ms for a batch of two calls of the paged decode example on an H100 (session 21, timed in the process), which a
#: batch of two (large inputs) shared over two calls and failed two honest items by; spread over the batch's calls
REQUEST_ALLOWANCE_MS = 2.5


@dataclass(frozen=True)
class OutsideClock:
    """What the judge measured around one batch of timed calls."""

    batch_wall_ms: float  # request sent -> reply read, over the whole batch
    calls: int
    round_trip_ms: float  # the least round trip of an empty request to the same process, capped by its pre-import one
    fixed_ms: float  # the judge's own batch of as many calls with nothing in them

    @property
    def per_call_ms(self) -> float:
        """The most one call can have cost, as seen from outside the kernel's process."""
        return max(0.0, self.batch_wall_ms - self.round_trip_ms - self.fixed_ms) / max(self.calls, 1)

    @property
    def allowance_ms(self) -> float:
        """Host work per call a device timer rightly leaves out: launch overhead (``HOST_ALLOWANCE_MS``), the
        harness's own work once a request (``REQUEST_ALLOWANCE_MS``) shared by the calls, and the judge's own loop per
        call once more, since the kernel's process runs that loop under conditions the judge's copy cannot match
        (mapped tensors, armed tripwires): what was subtracted is uncertain by its own size."""
        return HOST_ALLOWANCE_MS + (REQUEST_ALLOWANCE_MS + self.fixed_ms) / max(self.calls, 1)


def contradiction(reported_median_ms: float, clock: OutsideClock) -> str | None:
    """Why the reported median cannot be right given the outside clock; None when it can."""
    limit = RATIO * reported_median_ms + clock.allowance_ms
    if clock.per_call_ms <= limit:
        return None
    return (f"the kernel's process reported a median of {reported_median_ms:.4g} ms per call, but the judge's own "
            f"clock saw {clock.per_call_ms:.4g} ms per call over a batch of {clock.calls} (wall "
            f"{clock.batch_wall_ms:.4g} ms less round trip {clock.round_trip_ms:.3g} ms and fixed costs "
            f"{clock.fixed_ms:.3g} ms); more than {RATIO:g} x the report + {clock.allowance_ms:.3g} ms cannot be "
            "launch overhead")  # fmt: skip
