"""Every integer code of the model, each with its name, defined once.

Records store categories as small integers (compact columns, fast comparisons in the run);
the tuples of names below decode them for files and reports. Each code is the position of
its name in its tuple, so a code and its name cannot drift apart (a test checks every one).
"""

from __future__ import annotations

# --------------------------------------------------------------------------- channels
#: The door a person tries first: a phone number, the emergency department on foot, or
#: (for requests from professionals such as a GP in daytime or a hospital) the professional
#: line of a dispatch desk.
CHANNEL_NAMES = ("112", "gp_post", "walk_in_ed", "professional")
CHANNEL_112, CHANNEL_GP_POST, CHANNEL_WALK_IN, CHANNEL_PROFESSIONAL = range(4)

# --------------------------------------------------------------------------- desks
#: Front desks: the ambulance dispatch centre (MKA, answers 112), the GP out-of-hours post's
#: triage desk, and the coordination desk (the one desk of ``central``, or the desk that
#: answers the GP post's number in ``coordination_centre``).
DESK_NAMES = ("mka", "gp_post", "coordination")
DESK_MKA, DESK_GP_POST, DESK_COORDINATION = range(3)
DESK_INDEX = {name: code for code, name in enumerate(DESK_NAMES)}

# --------------------------------------------------------------------------- calls
#: Why a call was placed. The first five are public calls (a caller waits in the queue with
#: finite patience); the others go over the professional line between desks.
CALL_KIND_NAMES = (
    "first",
    "redial",
    "switch",
    "referral",
    "recontact",
    "handover",
    "warm_transfer",
    "professional",
    "room_consult",
    "repeat",
    "intake_handoff",
    "callback",
)
(
    CALL_FIRST,
    CALL_REDIAL,
    CALL_SWITCH,
    CALL_REFERRAL,
    CALL_RECONTACT,
    CALL_HANDOVER,
    CALL_WARM_TRANSFER,
    CALL_PROFESSIONAL,
    CALL_ROOM_CONSULT,  # co-located: the MKA nurse asks the GP-post triagist in the room
    CALL_REPEAT,  # a second call about the same problem after care by advice or a consult
    CALL_INTAKE_HANDOFF,  # call-back mode: an urgent caller passed from intake to a triagist
    CALL_CALLBACK,  # call-back mode: a triagist calls the person back (an attempt)
) = range(12)
PUBLIC_CALL_KINDS = (
    CALL_FIRST,
    CALL_REDIAL,
    CALL_SWITCH,
    CALL_REFERRAL,
    CALL_RECONTACT,
    CALL_REPEAT,
)

#: Queue priority of a call at a desk: a lower number is answered first.
QUEUE_PRIORITY_NAMES = ("professional", "urgent", "regular")
QUEUE_PROFESSIONAL, QUEUE_URGENT, QUEUE_REGULAR = range(3)

# --------------------------------------------------------------------------- claims
#: What became of a claim on a staffed pool (a caller in a desk's queue, a patient waiting
#: for a GP, a ride waiting for a vehicle). Waiting is 0, so that a decided state is truthy:
#: callers write ``if not claim.state: yield claim`` before they read the state.
CLAIM_STATE_NAMES = ("waiting", "served", "abandoned", "closed")
CLAIM_WAITING, CLAIM_SERVED, CLAIM_ABANDONED, CLAIM_CLOSED = range(4)

# --------------------------------------------------------------------------- requests
#: How a request ended. Care once given is never overwritten by a later outcome.
OUTCOME_NAMES = (
    "in_system",
    "care_given",
    "advised_below_need",
    "abandoned",
    "referral_gave_up",
    "daytime_practice",
    "walked_in_ed",
    "self_care",
)
(
    OUTCOME_IN_SYSTEM,  # still in the system when the run ended
    OUTCOME_CARE_GIVEN,  # an acceptable service reached the patient
    OUTCOME_ADVISED_BELOW_NEED,  # telephone advice although more was needed; did not call again
    OUTCOME_ABANDONED,  # gave up after hanging up in a queue (or after too many calls)
    OUTCOME_REFERRAL_GAVE_UP,  # told to phone the GP post and did not
    OUTCOME_DAYTIME_PRACTICE,  # the GP post closed before serving it: handed to daytime care
    OUTCOME_WALKED_IN_ED,  # went straight to the emergency department
    OUTCOME_SELF_CARE,  # digital self-triage ended in self-care advice: never called
) = range(8)

#: Direction of a triage error: the disposition gives more care than the need (over), less
#: (under), or a different service of the same acuity (other).
TRIAGE_DIRECTION_NAMES = ("correct", "over", "under", "other")
TRIAGE_CORRECT, TRIAGE_OVER, TRIAGE_UNDER, TRIAGE_OTHER = range(4)

# --------------------------------------------------------------------------- ambulances
#: Ambulance urgencies, in the order a vehicle is given to waiting rides.
AMBULANCE_PRIORITY_NAMES = ("A1", "A2", "B")
AMBULANCE_A1, AMBULANCE_A2, AMBULANCE_B = range(3)
AMBULANCE_PRIORITY = {name: code for code, name in enumerate(AMBULANCE_PRIORITY_NAMES)}
