"""Platform mechanisms every Roofline service uses.

No domain concept of any one service lives here.
"""
