"""What every field of a scenario file means and its unit, for the JSON Schema (editors show
them while a file is written) and the web app's forms.

One entry per field of every schema model, ``"Model.field": (unit, description)``; a test
checks that no field is missing. Units: ``min`` minutes, ``share`` a fraction from 0 to 1,
``factor`` a multiplier (1 = as is), ``h`` clock hour, ``km``, ``km/h``, ``people``,
``count``, ``staff table`` (a number on duty per day part), ``text``, ``date``
(YYYY-MM-DD), ``name`` (a key defined elsewhere in the file), ``-`` (a structure).
"""

from __future__ import annotations

STAFF_TABLE = "staff table"

FIELD_DOCS: dict[str, tuple[str, str]] = {
    # ------------------------------------------------------------------ the scenario
    "Scenario.name": ("text", "Short name of the scenario (results folders and reports use it)."),
    "Scenario.description": ("text", "One line on what the scenario is."),
    "Scenario.organisation": (
        "name",
        "The organisational form: separate (today), colocated, coordination_centre or central.",
    ),
    "Scenario.region": ("-", "The region whose inhabitants make the requests."),
    "Scenario.calendar": (
        "-",
        "Start date, public holidays, special days, the after-hours window and the day parts of staffing tables.",
    ),
    "Scenario.run": (
        "-",
        "Length of a replication (reporting weeks, warm-up, drain) and the base seed.",
    ),
    "Scenario.needs": (
        "-",
        "The true needs: for each, the right service, urgency, time target and the door people try first.",
    ),
    "Scenario.demand": (
        "-",
        "Who asks for care: demand groups with volumes, hourly profiles and need mixes.",
    ),
    "Scenario.mka": ("-", "The ambulance dispatch centre (MKA) that answers 112."),
    "Scenario.gp_post": (
        "-",
        "The GP out-of-hours post: triagists, GPs for consultations, cars for visits.",
    ),
    "Scenario.coordination": (
        "-",
        "The coordination desk (central and coordination_centre forms).",
    ),
    "Scenario.ambulances": ("-", "The ambulance fleet and the phases of a ride."),
    "Scenario.geography": (
        "-",
        "Zones, posts, hospitals and drive times on a map; null for one fleet without a map.",
    ),
    "Scenario.teams": (
        "-",
        "Optional visiting teams (district nurse, mental-health crisis team) by name.",
    ),
    "Scenario.behaviour": (
        "-",
        "Rules every form shares: call limits, shift changes, delays, the U1 rule.",
    ),
    "Scenario.provenance": ("-", "Source and confidence of default figures, by dotted field path."),
    "Scenario.uncertainty": (
        "-",
        "Inputs that are not known exactly, with distributions, for uncertainty studies.",
    ),
    "Scenario.staffing": (
        "-",
        "What the staffing command searches for: norms, verification, shifts.",
    ),
    "Scenario.costs": ("-", "Cost per hour on duty of every staffing table (optional)."),
    "Scenario.extends": (
        "file",
        "Base file(s) this file overrides: one path or a list merged in order (a region's base, then form mix-ins).",
    ),
    # ------------------------------------------------------------------ region, calendar, run
    "Region.name": ("text", "The region's name, as reports print it."),
    "Region.population": ("people", "Inhabitants; demand volumes are per 1,000 of them."),
    "Calendar.start_date": (
        "date",
        "The first simulated day; must be a Monday (clock 0 is its 00:00).",
    ),
    "Calendar.public_holidays": (
        "date",
        "Public holidays: they count as the day type 'holiday' (like a Sunday unless said otherwise).",
    ),
    "Calendar.day_types": (
        "-",
        "Kinds of special day (Christmas, ...) by name: which weekday they follow and their demand and staffing.",
    ),
    "Calendar.special_days": ("name", "Dates of special days, each naming a day type."),
    "Calendar.after_hours": (
        "-",
        "The GP out-of-hours window on weekdays (weekends and holidays are after hours all day).",
    ),
    "Calendar.day_parts": (
        "-",
        "Blocks of the week by name, used by every staffing table; together they cover each hour once.",
    ),
    "AfterHours.weekday_start_hour": (
        "h",
        "Clock hour on weekdays at which the after-hours window starts (e.g. 17).",
    ),
    "AfterHours.weekday_end_hour": (
        "h",
        "Clock hour on weekdays at which it ends next morning (e.g. 8).",
    ),
    "DayPart.days": ("name", "The days the block starts on (mon ... sun)."),
    "DayPart.start_hour": ("h", "Clock hour the block starts."),
    "DayPart.end_hour": (
        "h",
        "Clock hour it ends (at or before the start: it runs past midnight; 24: midnight).",
    ),
    "DayType.like": (
        "name",
        "The weekday whose hour profiles and day parts the day follows (mon ... sun).",
    ),
    "DayType.demand": ("factor", "Demand multiplier on such days, by demand group."),
    "DayType.staffing": (
        STAFF_TABLE,
        "Staffing tables that differ on such days, by dotted table name.",
    ),
    "DayType.after_hours_all_day": (
        "yes/no",
        "Whether the GP post's after-hours service runs all day.",
    ),
    "Run.weeks": ("weeks", "Reporting weeks after the warm-up."),
    "Run.warmup_days": ("days", "Days simulated before reporting starts (queues fill up)."),
    "Run.drain_hours": ("h", "Hours after the last arrival for open requests to finish."),
    "Run.seed": ("count", "Base seed of the random numbers: the same seed gives the same numbers."),
    # ------------------------------------------------------------------ needs and demand
    "Need.label": ("text", "The need in words."),
    "Need.urgency": (
        "name",
        "Urgency class: A1, A2, B (ambulance) or U1 ... U5 (GP post), as the KPIs group them.",
    ),
    "Need.service": (
        "name",
        "The right service for the need (a dispatch name: ambulance, gp_visit, gp_consult, advice, a team).",
    ),
    "Need.acceptable_services": ("name", "Other services that also count as care for the need."),
    "Need.ambulance_priority": (
        "name",
        "Ambulance priority when an ambulance is the right service: A1, A2 or B.",
    ),
    "Need.target_min": (
        "min",
        "Time target from the first call to care (the care KPIs count within it).",
    ),
    "Need.acuity": ("count", "Orders needs from most to least acute (for over- and under-triage)."),
    "Need.home_door": ("name", "The desk that owns the need today: mka or gp_post."),
    "Need.channel": ("share", "Which door people with this need try first (shares sum to 1)."),
    "Need.urgent_line_share": ("share", "Share who choose the GP post's urgent line."),
    "Need.conveyance_share": (
        "share",
        "Share of ambulance rides that take the patient to hospital.",
    ),
    "Need.ed_referral_share": (
        "share",
        "Share referred to the emergency department after a GP consultation or visit.",
    ),
    "Need.recontact_after_advice_share": (
        "share",
        "Share who call again when given advice below their need.",
    ),
    "ChannelChoice.dial_112": ("share", "Share who dial 112 first."),
    "ChannelChoice.dial_gp_post": ("share", "Share who phone the GP post first."),
    "ChannelChoice.walk_in_ed": ("share", "Share who walk into the emergency department."),
    "Demand.profiles": (
        "-",
        "Hourly arrival profiles by name (import-profile makes one from a telephony export).",
    ),
    "Demand.groups": ("-", "Demand groups by name, each an independent stream of requests."),
    "Demand.gp_type_dial_112_factor": (
        "factor",
        "Multiplies how many people with a GP-type need dial 112 first.",
    ),
    "Demand.induced_share": (
        "share",
        "Extra GP-type requests drawn in by an easier entry, as a share of the after-hours volume.",
    ),
    "Demand.season_by_month": ("factor", "Demand multiplier by month (1-12)."),
    "Demand.self_triage": ("-", "Digital self-triage on the GP post's website before a call."),
    "Profile.weekday": ("factor", "24 relative rates for Monday to Friday (00-01 first)."),
    "Profile.monday": ("factor", "24 relative rates for Monday (instead of weekday)."),
    "Profile.tuesday": ("factor", "24 relative rates for Tuesday (instead of weekday)."),
    "Profile.wednesday": ("factor", "24 relative rates for Wednesday (instead of weekday)."),
    "Profile.thursday": ("factor", "24 relative rates for Thursday (instead of weekday)."),
    "Profile.friday": ("factor", "24 relative rates for Friday (instead of weekday)."),
    "Profile.saturday": ("factor", "24 relative rates for Saturday."),
    "Profile.sunday": ("factor", "24 relative rates for Sunday (and public holidays)."),
    "DemandGroup.label": ("text", "The group in words."),
    "DemandGroup.requests_per_1000_per_year": (
        "per 1,000 a year",
        "Requests a year per 1,000 inhabitants.",
    ),
    "DemandGroup.volume_factor": ("factor", "Multiplies the volume (for sweeps)."),
    "DemandGroup.after_hours_only": ("yes/no", "Whether the group asks only after hours."),
    "DemandGroup.profile": ("name", "The hourly profile (a key of demand.profiles)."),
    "DemandGroup.channel": (
        "name",
        "public (people who phone) or professional (GPs and hospitals requesting rides).",
    ),
    "DemandGroup.need_mix": ("share", "Share of each need among the group's requests (sums to 1)."),
    "DemandGroup.channel_by_need": (
        "share",
        "Doors tried first by need for this group, instead of the need's own.",
    ),
    "SelfTriage.uptake": ("share", "Share of callers with each need who try the website first."),
    "SelfTriage.resolved_share": ("share", "Share of those whose problem the website resolves."),
    "SelfTriage.check_min": ("min", "Minutes spent on the website before calling."),
    # ------------------------------------------------------------------ desks
    "Mka.call_takers": (STAFF_TABLE, "112 call-takers (MKA nurses) on duty per day part."),
    "Mka.national_desk_delay": (
        "min",
        "The national 112 desk's answer and transfer time before the MKA.",
    ),
    "Mka.triage": ("-", "How the MKA handles a call."),
    "Mka.referral": ("-", "A GP-type caller told to phone the GP post (separate form)."),
    "Mka.room_consult": (
        "-",
        "Co-located form: the MKA nurse talks an A2 decision over with a GP-post triagist.",
    ),
    "GpPost.triagists": (STAFF_TABLE, "GP-post triagists on duty per day part."),
    "GpPost.triage": ("-", "How the GP post handles a call."),
    "GpPost.consult_gps": (STAFF_TABLE, "GPs seeing patients at the post per day part."),
    "GpPost.travel_to_post": ("min", "A patient's travel to the post."),
    "GpPost.consultation": ("min", "Length of a consultation."),
    "GpPost.visit_cars": (STAFF_TABLE, "Cars with a visiting GP per day part."),
    "GpPost.visit_travel": ("min", "A GP car's drive to the patient (without a map)."),
    "GpPost.visit_on_site": ("min", "Time with the patient at a visit."),
    "Coordination.agents": (STAFF_TABLE, "Staff of the coordination desk per day part."),
    "Coordination.triage": ("-", "How the coordination desk handles a call (broad triage)."),
    "Coordination.alternatives_when_queue_at_least": (
        "count",
        "Send an acceptable alternative service when the first choice has this many waiting (null: never).",
    ),
    "Coordination.alternative_services": ("name", "Services the desk may send as an alternative."),
    "Triage.handle_time": (
        "min",
        "Call length by the service decided (a dispatch name, or default).",
    ),
    "Triage.patience": ("min", "How long a caller waits in the queue before hanging up."),
    "Triage.on_abandon": ("-", "What a caller who hangs up does next."),
    "Triage.answer_norm": (
        "-",
        "Minutes within which an urgent or regular call counts as answered in time.",
    ),
    "Triage.warm_transfer_time": ("min", "Length of a warm transfer to another desk."),
    "Triage.dispatches": ("name", "Services this desk may send."),
    "Triage.confusion": (
        "share",
        "Triage accuracy: for each true need, the shares triaged as each need (rows sum to 1).",
    ),
    "Triage.callback": (
        "-",
        "Call-back mode: a short intake, then a triagist calls back (null: direct triage).",
    ),
    "OnAbandon.redial_same_share": ("share", "Share who call the same number again."),
    "OnAbandon.switch_other_share": ("share", "Share who call the other number."),
    "OnAbandon.redial_delay": ("min", "Time before calling again."),
    "AnswerNorm.urgent_min": ("min", "An urgent call is answered in time within this."),
    "AnswerNorm.regular_min": ("min", "A regular call is answered in time within this."),
    "CallBack.intake_staff": (STAFF_TABLE, "Intake staff per day part."),
    "CallBack.intake_time": ("min", "Length of the intake call."),
    "CallBack.at_once": ("name", "Urgencies handed to a triagist at once (not called back)."),
    "CallBack.attempt_fail_share": ("share", "Share of call-back attempts nobody answers."),
    "CallBack.attempt_min": ("min", "A triagist's time on an attempt nobody answers."),
    "CallBack.retry_delay": ("min", "Time before the next attempt."),
    "CallBack.max_attempts": ("count", "Attempts before giving up."),
    "Referral.give_up_share": ("share", "Share of referred callers who do not phone the GP post."),
    "Referral.redial_delay": ("min", "Time before a referred caller phones the GP post."),
    "RoomConsult.share": ("share", "Share of A2 decisions talked over when a triagist is free."),
    "RoomConsult.duration": ("min", "Length of the talk (both people held)."),
    # ------------------------------------------------------------------ services
    "Ambulances.on_duty": (
        STAFF_TABLE,
        "Vehicles on duty per day part (without a map; with one, the posts' vehicles).",
    ),
    "Ambulances.dispatch": ("min", "From the call taken to a vehicle asked for."),
    "Ambulances.turnout": ("min", "From a vehicle asked for to driving."),
    "Ambulances.drive_to_scene": ("min", "Drive to the scene (without a map)."),
    "Ambulances.on_scene": ("min", "Time on scene."),
    "Ambulances.transport": ("min", "Drive to hospital (without a map)."),
    "Ambulances.handover": ("min", "Handover at the hospital."),
    "Ambulances.return_to_base": ("min", "Drive back to the post (without a map)."),
    "Team.label": ("text", "The team in words."),
    "Team.staff": (STAFF_TABLE, "Team members on duty per day part."),
    "Team.travel": ("min", "Drive to the patient."),
    "Team.on_site": ("min", "Time with the patient."),
    "Behaviour.max_calls_per_request": (
        "count",
        "Most calls one request may make before giving up.",
    ),
    "Behaviour.shift_change": (
        "name",
        "At a day-part boundary: level (the number is a level; leaving staff finish the call in hand) or handover (a whole new shift starts on time).",
    ),
    "Behaviour.recontact_delay": ("min", "Time before calling again after advice below need."),
    "Behaviour.escalation_delay": ("min", "Time before a professional on scene escalates."),
    "Behaviour.triage_decision": (
        "min",
        "Minutes into a triage call at which a GP car or team is sent (capped at the call's length).",
    ),
    "Behaviour.u1_dispatch": (
        "share",
        "What is sent for U1 at a GP-post scale desk: ambulance, GP or both (sum to 1).",
    ),
    "Behaviour.caller_driven_over_triage_share": (
        "share",
        "Share of the MKA's over-triage of GP-type callers that comes from how the caller presents (it follows them to any desk); the rest is the MKA's protocol.",
    ),
    "Behaviour.repeat_contact": (
        "-",
        "A second call about the same problem after advice or a consultation.",
    ),
    "U1Dispatch.ambulance": ("share", "Share of U1 cases sent an ambulance only."),
    "U1Dispatch.gp": ("share", "Share sent a GP only."),
    "U1Dispatch.both": ("share", "Share sent both."),
    "RepeatContact.after_advice_share": ("share", "Share who call again after telephone advice."),
    "RepeatContact.after_consult_share": ("share", "Share who call again after a consultation."),
    "RepeatContact.delay": ("min", "Time before the second call."),
    # ------------------------------------------------------------------ geography
    "Geography.zones": ("-", "Demand zones by name."),
    "Geography.posts": ("-", "Ambulance posts by name."),
    "Geography.hospitals": ("-", "Hospitals with an emergency department by name."),
    "Geography.drive": ("-", "Emergency drive time between two points."),
    "Geography.cover_drive_min": (
        "min",
        "Longest expected drive from a post for a zone to count as covered by it.",
    ),
    "Geography.car_bases": ("-", "Where GP cars and teams leave from, by name."),
    "Geography.car": ("-", "GP car and team drive time (normal traffic)."),
    "Geography.move_up": ("yes/no", "Whether a free vehicle moves to cover an empty post."),
    "Geography.drive_minutes": (
        "min",
        "Measured drive minutes between places, overriding the drive model.",
    ),
    "Geography.drive_minutes_file": (
        "file",
        "CSV of drive minutes (from,to,minutes), relative to this file.",
    ),
    "Zone.population": ("people", "Inhabitants of the zone (its share of every demand group)."),
    "Zone.x_km": ("km", "East coordinate (Dutch RD grid in km)."),
    "Zone.y_km": ("km", "North coordinate (Dutch RD grid in km)."),
    "Zone.spread_km": ("km", "Mean distance of the zone's addresses from its point."),
    "Point.x_km": ("km", "East coordinate (Dutch RD grid in km)."),
    "Point.y_km": ("km", "North coordinate (Dutch RD grid in km)."),
    "Post.x_km": ("km", "East coordinate (Dutch RD grid in km)."),
    "Post.y_km": ("km", "North coordinate (Dutch RD grid in km)."),
    "Post.vehicles": (STAFF_TABLE, "Vehicles on duty at the post per day part."),
    "DriveModel.fixed_min": ("min", "Fixed minutes per drive."),
    "DriveModel.detour_factor": ("factor", "Road distance over straight-line distance."),
    "DriveModel.speed_kmh": ("km/h", "Mean speed."),
    "DriveModel.cv": ("share", "Coefficient of variation of a drive's time."),
    # ------------------------------------------------------------------ durations
    "Duration.dist": ("name", "fixed, exponential, lognormal, gamma, weibull or uniform."),
    "Duration.mean_min": ("min", "Mean duration."),
    "Duration.cv": (
        "factor",
        "Coefficient of variation (sd / mean) for lognormal, gamma and weibull.",
    ),
    "Duration.low_min": ("min", "Lower end of a uniform duration."),
    "Duration.high_min": ("min", "Upper end of a uniform duration."),
    # ------------------------------------------------------------------ staffing, costs
    "StaffingSearch.norms": (
        "-",
        "The service every desk (and with services, every service) must give.",
    ),
    "StaffingSearch.hours_per_fte": ("h", "Paid hours a week of one full-time job."),
    "StaffingSearch.confidence": ("share", "How sure the verification must be that a norm is met."),
    "StaffingSearch.replications": ("count", "Replications per step of the search."),
    "StaffingSearch.verify_replications": ("count", "Replications of the verification."),
    "StaffingSearch.min_staff": ("count", "Fewest staff while a desk is open."),
    "StaffingSearch.shifts": ("-", "The shifts a roster may use (null: day parts only)."),
    "StaffingSearch.services": (
        "yes/no",
        "Also staff the services (GP posts, GP cars, ambulances) to care norms.",
    ),
    "StaffingNorms.urgent_answered_share": (
        "share",
        "Share of urgent calls answered within the desk's urgent norm.",
    ),
    "StaffingNorms.regular_answered_share": (
        "share",
        "Share of regular calls answered within the regular norm.",
    ),
    "StaffingNorms.abandoned_share_max": (
        "share",
        "Most calls that may be abandoned in the queue.",
    ),
    "StaffingNorms.callback": ("-", "The call-back norm (null: none)."),
    "StaffingNorms.care": (
        "share",
        "Share of requests of each urgency reached within the need's target (services).",
    ),
    "StaffingNorms.care_tolerance": (
        "share",
        "A care norm also counts as met within this of what unlimited units reach.",
    ),
    "CallbackNorm.within_min": ("min", "Minutes within which a call-back must start."),
    "CallbackNorm.share": ("share", "Share of call-backs that must start within them."),
    "ShiftPatterns.starts": ("h", "Clock hours a shift may start."),
    "ShiftPatterns.lengths": ("h", "Lengths a shift may have."),
    "Costs.currency": ("text", "Currency of the costs (EUR)."),
    "Costs.per_hour": (
        "currency/h",
        "Cost of one hour on duty by staffing table (mka.call_takers, gp_post.triagists, ...).",
    ),
    # ------------------------------------------------------------------ sources, uncertainty
    "Provenance.confidence": ("name", "measured, norm, estimated or guessed."),
    "Provenance.source": ("text", "Where the figure comes from."),
    "UncertainInput.fields": (
        "name",
        "Dotted field paths the input moves (* matches every key at that level).",
    ),
    "UncertainInput.how": ("name", "multiply the fields' values (a factor around 1) or set them."),
    "UncertainInput.dist": ("name", "uniform, triangular, beta or lognormal."),
    "UncertainInput.low": ("as the field", "Lower end (uniform, triangular; beta's support)."),
    "UncertainInput.high": ("as the field", "Upper end (uniform, triangular; beta's support)."),
    "UncertainInput.mode": ("as the field", "Most likely value (triangular)."),
    "UncertainInput.mean": ("as the field", "Mean (beta)."),
    "UncertainInput.sd": ("as the field", "Standard deviation (beta)."),
    "UncertainInput.median": ("as the field", "Median (lognormal)."),
    "UncertainInput.cv": ("factor", "Coefficient of variation (lognormal)."),
    "UncertainInput.confidence": ("name", "measured, norm, estimated or guessed."),
    "UncertainInput.source": ("text", "Where the range comes from."),
}
