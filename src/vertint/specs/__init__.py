"""Spec functions: one per data-decided claim, registered with :func:`vertint.robustness.spec`.

``vertint.specs.<chapter>`` holds the chapter's functions. Each takes one specification (a dict of
the choice values declared in ``rubric/choices/<chapter>.yml``) and returns
``robustness.Outcome(value, verdict)``: the reproduced value and the verdict the claim's rubric rule
gives, judged as of the claim's date, exactly as the chapter judges it at the defaults. Choices that
are rubric parameters are applied around the call; the function only reads the others.
"""
