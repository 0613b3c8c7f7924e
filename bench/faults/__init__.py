"""The fault suite: the platform under `seamless up` (its embedded default, or with its
records on a PostgreSQL server: `--postgres`), live cases driven through it by officers
who retry with the same request id, and faults injected at random moments (a process
killed, frozen, stopped a while or its clock stepped; the records' server killed; the
ledger's disk full; an agency cut off); after each round the records the platform keeps
apart (the engine, the ledger, the read model, each agency's inbox) are compared, and
what was lost, duplicated or late is counted.

    python -m bench.faults --seed 7 --per-kind 100 --markdown RELIABILITY.md
    python -m bench.faults --postgres --kinds restart:postgres,kill:worker --markdown RELIABILITY.md
"""
