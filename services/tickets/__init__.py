"""The tickets service: service tickets and recurring maintenance (a thin slice until its issue:
the customer and property of each job, kept from jobs' leads)."""
