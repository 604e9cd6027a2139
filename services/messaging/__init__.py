"""The messaging service: the installer portal, notifications and surveys (a thin slice until its
issue: a message thread per job, and who is on each job's crew)."""
