"""Studies over replications: the one ``replicate``, executors (local, dask), statistics,
comparison, the study's life cycle on disk, run files, sweeps and the regression gate."""
