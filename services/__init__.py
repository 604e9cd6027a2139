"""The five Roofline services, one package each."""
