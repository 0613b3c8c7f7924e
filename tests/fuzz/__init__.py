"""Fuzzing every RPC on every transport of a running platform (OWASP API Top 10).

`strategies` draws any request message from its proto descriptor, with boundary values
and real ids; `wire` and `bodies` put it on the wire well-formed or broken (bad UTF-8,
wrong wire types, malformed JSON and forms); `probes` makes one request on one door of
it (public gRPC, mutual TLS, Connect and gRPC-Web, Open311, the console, the agencies'
desks); `send` sends it and `answers` reads the answer; `oracle` judges (no INTERNAL or
UNKNOWN, no part down, no refused request changing a case, an inbox, a roster or the
ledger); `campaign` runs it all against a `target` and `findings` prints it.
`tests/gateway/test_fuzz.py` runs a sample in `make test`; `bench/fuzz.py` ten thousand
and more.
"""
