"""The fault suite: the platform under `seamless up` (its embedded default), live cases
driven through it by officers who retry with the same request id, and faults injected at
random moments (a process killed, frozen, stopped a while); after each round the records
the platform keeps apart (the engine, the ledger, the read model, each agency's inbox)
are compared, and what was lost, duplicated or late is counted.

    python -m bench.faults --seed 7 --per-kind 100 --markdown RELIABILITY.md
"""
