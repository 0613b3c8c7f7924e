"""One gRPC service per agency, each with its own database: its inbox and notices."""
