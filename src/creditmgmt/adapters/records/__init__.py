"""The record layer shared by every store: one layer, three backends (memory, sql, files).

- `contract`: what a storage technology implements — `RecordBackend` / `RecordTransaction`
  over `Record`s of a `KindSpec`, with the `In`, `Range` and `Partition` filters and the
  outbox (`OutboxEntry`); a host's own adapter implements these and nothing else.
- `kinds`: the stored kinds, their queryable columns and how each aggregate fills them.
- `codec`: the documents of aggregates, events and audit entries, made by the one cattrs
  converter of `converter` (how decimals, money, ids, dates, enums and events travel);
  `fastpath`: the generated functions it reads the common form of attrs classes with first.
- `unit_of_work`: `RecordStore` (the `Store` port) and `RecordUnitOfWork`, with the identity
  map, dirty detection, version checks and the outbox; `repositories`: the typed
  repositories over the records of one kind; `audit_chain`: the audit log, chained at commit.
- `in_process`: the committed state and transactions of the in-process stores (memory, files).
- `clone`, `committed`: copying aggregates and catching changes after a commit. (Bulk commits
  and batch reads pause the cyclic garbage collector: `creditmgmt._gcpause`.)
"""
