"""The Python API in one page: compare today's separate front doors with a coordination
centre, look at the paired differences, and at the records of one run.

Run from the project folder: ``python examples/api_example.py`` (about a minute; the
tests run it with ``WEEKS=1`` and ``REPLICATIONS=2``, which is quicker still).
"""

import os

import pandas as pd

from sim import api

WEEKS = int(os.environ.get("WEEKS", "2"))
REPLICATIONS = int(os.environ.get("REPLICATIONS", "3"))

# 1. Scenarios: shipped files, shortened; any field can be changed as with --set.
today = api.load_scenario("scenarios/groningen_separate.yaml", changes={"run.weeks": WEEKS})
centre = api.load_scenario(
    "scenarios/groningen_coordination_centre.yaml", changes={"run.weeks": WEEKS}
)

# 2. A paired comparison (common random numbers), today's form first. Nothing is written
#    to disk unless out="results" is given (then with the HTML report).
res = api.compare([today, centre], replications=REPLICATIONS)

# 3. The headline differences: coordination centre minus today, with 95 % intervals.
headline = [
    "misrouted.share",
    "answer.all.mean_min",
    "care.A1.within_target_share",
    "ambulance.rides_gp_type.share",
]
diff = res.differences.set_index("kpi").loc[
    headline, ["label", "unit", "difference", "diff_ci_low", "diff_ci_high"]
]
with pd.option_context("display.width", 120, "display.max_colwidth", 40):
    print(diff)

# 4. Every KPI of every replication, tidy: one row per scenario, replication and KPI.
print(res.kpis.head())

# 5. One replication of one form with its records: who called, what happened, when.
one = api.run(today, replications=1)
requests = one.requests
requests = requests.assign(wait_min=requests["first_answer_min"] - requests["arrival_min"])
print(requests[requests["reported"]].groupby("first_desk")["wait_min"].describe())
