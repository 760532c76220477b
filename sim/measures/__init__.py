"""KPIs and aggregates computed from one replication's records (numpy only, no SimPy)."""
