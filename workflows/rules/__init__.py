"""The rules of a joint case as a pure, deterministic state machine.

Nothing in this package imports Temporal, does I/O or reads the wall clock: the caller
passes the time in. The workflow drives it; tests drive it directly, exhaustively.
"""
