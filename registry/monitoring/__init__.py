"""Monitoring: customer books re-screened whenever a list changes.

- `books`: books of customer records (added or replaced by id, deleted, paged),
  loaded as jobs that screen every new or changed record against the registry.
- `delta`: screening of every book against just the entities a write changed
  (a small name index of those entities, through the same `screening.screen`).
- `alerts`: a match of a record is an alert (`new`, `changed`, `removed`) with
  its history; clearing or escalating one records a decision.
- `audit`: every screening recorded in a separate SQLite file, off the writer lock.
- `webhooks`: new alerts POSTed to a book's webhooks, signed, retried until a 2xx.
- `service`: the background threads of one process (`Monitor`).
"""
