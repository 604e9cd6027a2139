"""The commissions service: released activity, plans and statements (a thin slice until its
issue: the salesman credited for each job, from jobs' leads)."""
