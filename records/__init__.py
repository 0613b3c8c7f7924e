"""What every part shares about the platform's records, below all of them.

* `event_schema`: what a ledger event is (its kinds and attributes), which the rules
  write and every reader reads;
* `participation` and `need_to_know`: who may see a case, and how much of it (the one
  rule every door asks);
* `projected_case`: what the lists show of a case, which the rules make and the read
  model stores;
* `database`: how every part opens its database and migrates it (`migrations/` holds
  Alembic's machinery; each schema's revisions live with the code that owns it).

Pure of the engine and of the gateway: the case rules import it, and so does the ledger.
"""
