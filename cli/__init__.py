"""`seamless`: the command line of the platform (start it, and act on cases as an agency)."""
