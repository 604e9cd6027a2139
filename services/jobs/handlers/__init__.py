"""Jobs handlers, one function per command or consumed event, by area: ``pipeline`` (leads and
milestones), ``file`` (the job's documents and figures), ``production`` (hand-off to release,
crews), ``events`` (other services' events); ``common`` holds what they share."""
