"""The support judge: does a passage say what a claim says?

`scorer` weighs words and meaning; `facts` (numbers, dates, negation) and `roles`
(who did what to whom) veto a passage that shares the claim's words but says
something else; `clauses` reads sentences for both.
"""
