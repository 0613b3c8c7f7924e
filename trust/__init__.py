"""Who is who on the platform: parties by certificate, people by signed session.

* `pki`: the platform's certificate authority, each party's key and certificate, and the
  store of certificates that signatures are checked against.
* `tls`: gRPC credentials for mutual TLS, and the caller's party read from its
  certificate.
* `statements`: signed statements (compact JWS, ES256): commands, acts, receipts,
  checkpoints.
* `sessions`: an officer's signed session, and the roles officers hold.
* `passwords`: officers' passwords, hashed with Argon2id.
* `files`: private files and folders (0600 / 0700).

A leaf like `observability`: it imports no other part of Seamless, and every part that
needs to prove or check an identity imports it.
"""
