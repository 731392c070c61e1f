"""budgetwh's domain core, one package per stage of the flow (docs/architecture.md):

    read → recognize → normalize → validate → publish, orchestrated by run

``parse`` takes one document through the per-document stages; ``cli`` is the ``budgetwh``
command. Imports run one way: a module imports only from its own stage or the stages below it
(normalize, read, recognize, validate, parse, publish, run, cli), never back up
(tests/test_architecture.py)."""
