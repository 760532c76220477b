"""After-hours acute care simulator: 112/ambulance dispatch, GP out-of-hours post and a
single coordination desk, compared on waiting times and misrouted requests."""

__version__ = "0.1.0"
