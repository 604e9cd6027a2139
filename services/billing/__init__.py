"""The billing service: payments, finance, insurance, invoices and collections (a thin slice until
its issue: a finance folder per job, opened when the lead comes in)."""
