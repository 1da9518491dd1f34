"""The pure core: events, decoding, flows, correlation, explanations.

Nothing here imports socket, scapy or rich, or touches the network or a file
(tests/test_core_purity.py checks it), so all of it is tested without root.
"""
