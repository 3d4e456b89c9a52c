"""Qualification: the lifecycle stage machine and its rules, the framework question sets
(BANT, CHAMP, ANUM, GPCTBA/C&I, SPIN) and their answers, the decisions people take on a lead
(accept, reject, move, override), notes, and the reps' prioritised inbox."""
