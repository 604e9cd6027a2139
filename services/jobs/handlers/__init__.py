"""Jobs handlers, one function per command or consumed event, by area: ``pipeline`` (leads and
milestones), ``file`` (the job's documents and figures), ``production`` (hand-off to completion,
crews), ``billing`` (billing's events: invoice sent, final payment and its reversal, costs
settled, and the moves they make), ``events`` (other services' answers to a lead); ``common``
holds what they share."""
