"""Reference posteriors (data, recipe, stored summaries): see :mod:`bayes_utility.reference`."""
