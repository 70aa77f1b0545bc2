"""Architecture metrics of a source tree (issue #25's before/after): `python -m loadtest.architecture_metrics`."""
