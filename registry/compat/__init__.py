"""Speaking the protocols other tools already use: yente's query-by-example
matching (`yente`), the W3C entity reconciliation API (`reconcile`), with the
FollowTheMoney vocabulary both share (`ftm`). Each turns its protocol's query
into the registry's screening queries and runs them through the one screening
path (`registry.screening.screen`), then words the answer in the protocol's shape.
"""
