"""Stage 7, reporting: run folders, tables, plots and the report.
May import every stage below (data, models, config, inference, elicit, analyses); only workflow
and the command line import it.

* :mod:`.runfolder`: writing and reading a run folder (:func:`load_run`, :class:`Run`);
* :mod:`.tables`: summaries, ranks and their console formatting; :mod:`.plots`: forest plots;
* :mod:`.report` (what the report says) and :mod:`.doc` (HTML and Markdown);
* :mod:`.runs`: one long table across run folders.
"""


from importlib import import_module as _import_module

# names kept importable from the package itself (``from bayes_utility.reporting import X``), each
# imported from its module on first use
_LAZY = {'load_run': 'runfolder', 'Run': 'runfolder', 'write_report': 'report', 'summary_table': 'tables'}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(_import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
