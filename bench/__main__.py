"""`python -m bench`: the same as `seamless-bench`."""

from bench.run import entry_point

entry_point()
