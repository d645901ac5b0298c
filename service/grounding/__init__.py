"""Grounding: is every checkable claim of an answer supported by the evidence it cites?

``extract_claims`` finds the claims, ``check_answer`` judges a whole answer (evals, logs) and
``GroundingFilter`` guards a stream, holding back only from a claim to the end of its sentence.
"""
