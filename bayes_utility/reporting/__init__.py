"""Stage 7, reporting: run folders, tables, plots and the report.
May import every stage below (data, models, config, inference, elicit, analyses); only workflow
and the command line import it.

* :mod:`.runfolder`: writing and reading a run folder (:func:`load_run`, :class:`Run`);
* :mod:`.tables`: summaries, ranks and their console formatting; :mod:`.plots`: forest plots;
* :mod:`.report` (what the report says) and :mod:`.doc` (HTML and Markdown);
* :mod:`.runs`: one long table across run folders.
"""
from .._lazy import lazy_attributes

# names kept importable from the package itself (``from bayes_utility.reporting import X``)
__getattr__ = lazy_attributes(__name__, {
    "load_run": "runfolder", "Run": "runfolder", "write_report": "report", "summary_table": "tables"
})
