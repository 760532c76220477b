"""The defaults of the studies, shared by the command line and the Python API (a module
with no imports, so that reading them costs nothing)."""

#: Replications of a comparison when none are asked for.
DEFAULT_REPLICATIONS_COMPARE = 20
#: The most replications a precision target may add up to, when no limit is given.
DEFAULT_MAX_REPLICATIONS = 200
#: The default study of input uncertainty: draws of the inputs, replications per draw.
DEFAULT_DRAWS = 128
DEFAULT_UNCERTAINTY_REPLICATIONS = 4
#: Inputs run one at a time after the draws (tornado and thresholds).
DEFAULT_ONE_AT_A_TIME = 6
#: Independent staffing searches per form in a staffing comparison.
DEFAULT_SEARCHES = 3
