"""The backend battery, collected by ``pytest --pyargs gossip_model.suite`` (issue 10 item 2).

Give it your factories through the plugin's options (``gossip_model.pytest_plugin``)::

    pytest --pyargs gossip_model.suite --gossip-ledger mypkg.stores:make_ledger \
        --gossip-sink mypkg.stores:make_sink

For each store given, and only for it (the other side is never replaced by
the in-memory reference), it collects:

* ``test_conformance_*``: the twelve upstream checks (``run_conformance``'s
  cases: 5 done-ledger, 4 findings, 3 redaction), one item each;
* ``test_extended_*``: the extended battery
  (``run_extended_conformance``'s cases), one item each; a case needing a
  method the store lacks (the control surface) is skipped, saying which;
* ``test_*_machine``: the Hypothesis state machine (``rules.done_ledger`` /
  ``rules.findings``) with the store built by the factory; skipped, naming
  the missing methods and what is left out, for a store without the control
  surface;
* ``test_protocol_done_ledger_machine``: the machine restricted to the
  protocol's operations (``rules.plain_done_ledger``), for any ledger,
  including a plain ``DoneLedger`` without ``snapshot()`` or controls: writes
  (replays, conflicting and invalid batches) waited at once, ``batch_get``,
  ``list_done_hashes`` and ``count_done_hashes`` against the model; delays,
  releases, fault injection, ``snapshot()`` and ``get_record()`` are left out;
* ``test_differential_*``: seeded batch sequences applied to the store and
  to the in-memory reference, comparing outcomes, receipts and reads;
* ``test_stormy_sweep``: the stormy simulation (``gossip_model.sim``) for a
  few seeds (ledger only; needs the control surface).
"""
