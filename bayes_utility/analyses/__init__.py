"""Stage 6, analyses: what a posterior says beyond the utilities, each with its interval.
May import data, models, config and inference; never reporting or workflow (an analysis gets
a :class:`~bayes_utility.analyses.context.RunContext`, not a run folder's code).

* :mod:`.hierarchy`: agreement between respondents (convergence of values);
* :mod:`.expected_utility`, :mod:`.transitivity`, :mod:`.coherence`: coherence;
* :mod:`.maximization`, :mod:`.instrumental`: utility maximisation, instrumental values;
* :mod:`.discounting`, :mod:`.exchange_rates`, :mod:`.corrigibility`, :mod:`.values` (power
  seeking, utility control, political positions);
* :mod:`.registry`: what each analysis writes into run folders and shows in the report.
"""
